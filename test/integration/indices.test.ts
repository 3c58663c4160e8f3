import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { applyIndices, indicesStatus, migrateIndex, resolveAlias } from '../../src/es/indices.ts';
import { MAPPING_VERSION } from '../../src/es/mappings.ts';
import { deleteIndexQuietly, esClient, uniqueName } from './helpers.ts';

const client = esClient();
let base = '';

afterEach(async () => {
  await deleteIndexQuietly(client, `${base}-*`);
  for (const role of ['runs', 'rollups', 'syncs', 'leases']) {
    await client.indices.deleteIndexTemplate({ name: `${base}-${role}-template` }, { ignore: [404] });
  }
});

describe('es/indices (real Elasticsearch)', () => {
  it('migrate copies an older index behind the alias into the current version and swaps the alias', async () => {
    base = uniqueName('it-idx');
    const config = parseConfig({ indices: { runs: `${base}-runs`, rollups: `${base}-rollups`, sync_runs: `${base}-syncs`, leases: `${base}-leases` } });
    await client.indices.create({ index: `${base}-runs-v0`, aliases: { [`${base}-runs`]: { is_write_index: true } } });
    await client.bulk({
      refresh: true,
      operations: [1, 2, 3].flatMap((n) => [{ index: { _index: `${base}-runs-v0`, _id: `r${n}` } }, { run_id: `r${n}`, lora_rank: n * 4 }]),
    });

    const before = await indicesStatus(client, config);
    const result = await migrateIndex(client, config, 'runs');

    expect(before.find((s) => s.role === 'runs')).toMatchObject({ index: `${base}-runs-v0`, version: null, needsMigration: true });
    expect(result).toEqual({ from: `${base}-runs-v0`, to: `${base}-runs-v${MAPPING_VERSION}`, copied: 3 });
    expect(await resolveAlias(client, `${base}-runs`)).toBe(`${base}-runs-v${MAPPING_VERSION}`);
    const docs = await client.search({ index: `${base}-runs`, sort: [{ run_id: 'asc' }] });
    expect(docs.hits.hits.map((h) => h._id)).toEqual(['r1', 'r2', 'r3']);
    const after = await applyIndices(client, config);
    expect(after.every((s) => !s.needsMigration)).toBe(true);
  });

  it('a single-node engine gets indices without replicas (green), and a run is one Lucene document whatever its epochs', async () => {
    base = uniqueName('it-idx');
    const config = parseConfig({ indices: { runs: `${base}-runs`, rollups: `${base}-rollups`, sync_runs: `${base}-syncs`, leases: `${base}-leases` } });
    expect((await client.cluster.health()).number_of_nodes).toBe(1);

    await applyIndices(client, config);

    for (const role of ['runs', 'rollups', 'syncs', 'leases']) {
      const health = await client.cluster.health({ index: `${base}-${role}`, level: 'indices' });
      expect(health.status, role).toBe('green');
      const settings = Object.values(await client.indices.getSettings({ index: `${base}-${role}` }))[0];
      expect(settings?.settings?.index?.number_of_replicas, role).toBe('0');
    }
    const epochs = Array.from({ length: 10 }, (_, i) => ({ epoch: i + 1, mean: 0.1, last: 0.1, min: 0.1, steps: 10 }));
    await client.index({ index: `${base}-runs`, id: 'r1', document: { run_id: 'r1', loss_per_epoch: epochs }, refresh: true });
    const [row] = (await client.cat.indices({ index: `${base}-runs-v${MAPPING_VERSION}`, h: 'docs.count', format: 'json' })) as Array<{ 'docs.count': string }>;
    expect(row?.['docs.count']).toBe('1');
    const doc = await client.get<{ loss_per_epoch: unknown }>({ index: `${base}-runs`, id: 'r1' });
    expect(doc._source?.loss_per_epoch).toEqual(epochs);
  });
});
