import { afterEach, describe, expect, it } from 'vitest';
import { scanPages } from '../../src/es/pit.ts';
import { deleteIndexQuietly, esClient, uniqueName } from './helpers.ts';

const client = esClient();
let index = '';

afterEach(async () => {
  await deleteIndexQuietly(client, index);
});

async function indexDocs(n: number): Promise<void> {
  index = uniqueName('it-pit');
  await client.indices.create({ index, settings: { number_of_shards: 2, number_of_replicas: 0 } });
  const operations = Array.from({ length: n }, (_, i) => [{ index: { _index: index, _id: `d${i}` } }, { n: i }]).flat();
  await client.bulk({ operations, refresh: true });
}

describe('es/pit scanPages (real Elasticsearch)', () => {
  it('reads every document exactly once, a page at a time, in one slice or in several read side by side', async () => {
    await indexDocs(237);
    for (const slices of [1, 3]) {
      const seen: string[] = [];
      let pages = 0;
      for await (const hits of scanPages(client, { index, pageSize: 20, slices })) {
        pages += 1;
        expect(hits.length).toBeLessThanOrEqual(20);
        seen.push(...hits.map((h) => h._id as string));
      }
      expect(seen.sort()).toEqual(Array.from({ length: 237 }, (_, i) => `d${i}`).sort());
      expect(pages).toBeGreaterThanOrEqual(12);
    }
  });

  it('closes its point in time when the consumer stops early, also with slices', async () => {
    await indexDocs(100);
    // Other files' scans may have left contexts to expire: compare with what was open before.
    const before = await openContexts();
    for (const slices of [1, 2]) {
      for await (const hits of scanPages(client, { index, pageSize: 10, slices })) {
        expect(hits.length).toBeGreaterThan(0);
        break;
      }
    }
    expect(await openContexts()).toBeLessThanOrEqual(before);
  });
});

async function openContexts(): Promise<number> {
  const stats = await client.nodes.stats({ metric: 'indices', index_metric: 'search' });
  return Object.values(stats.nodes).reduce((n, node) => n + Number((node.indices?.search as { open_contexts?: number } | undefined)?.open_contexts ?? 0), 0);
}
