import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { applyIndices, indicesStatus, migrateIndex, resolveAlias } from '../../src/es/indices.ts';
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
    await client.bulk({ refresh: true, operations: [1, 2, 3].flatMap((n) => [{ index: { _index: `${base}-runs-v0`, _id: `r${n}` } }, { run_id: `r${n}`, lora_rank: n * 4 }]) });

    const before = await indicesStatus(client, config);
    const result = await migrateIndex(client, config, 'runs');

    expect(before.find((s) => s.role === 'runs')).toMatchObject({ index: `${base}-runs-v0`, version: null, needsMigration: true });
    expect(result).toEqual({ from: `${base}-runs-v0`, to: `${base}-runs-v1`, copied: 3 });
    expect(await resolveAlias(client, `${base}-runs`)).toBe(`${base}-runs-v1`);
    const docs = await client.search({ index: `${base}-runs`, sort: [{ run_id: 'asc' }] });
    expect(docs.hits.hits.map((h) => h._id)).toEqual(['r1', 'r2', 'r3']);
    const after = await applyIndices(client, config);
    expect(after.every((s) => !s.needsMigration)).toBe(true);
  });
});
