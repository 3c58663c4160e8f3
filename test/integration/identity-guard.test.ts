import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '@elastic/elasticsearch';
import { emptyFields } from '../../src/record/build.ts';
import type { RunRecord } from '../../src/record/schema.ts';
import { createIdentityGuard } from '../../src/sync/identity-guard.ts';
import { memoryDriver } from '../helpers/memory-driver.ts';
import { deleteIndexQuietly, esClient, uniqueName } from './helpers.ts';

const client = esClient();
let index = '';

afterEach(async () => {
  await deleteIndexQuietly(client, index);
});

function record(runId: string, path: string): RunRecord {
  return {
    ...emptyFields(),
    run_id: runId,
    run_id_basis: 'content',
    source: { kind: 'fs', root: 'lab', path, uri: `/lab/${path}` },
    format: 'kohya',
    fingerprint: 'f',
    parser_version: '1',
  };
}

const ID = (n: number) => `00000000-0000-5000-8000-${String(n).padStart(12, '0')}`;

describe('sync/identity-guard (real Elasticsearch)', () => {
  it('gives a copy its own id even when the original was claimed long ago and is not refreshed yet', async () => {
    index = uniqueName('it-guard');
    await client.indices.create({ index, settings: { refresh_interval: '-1' } });
    const driver = memoryDriver(Object.fromEntries(Array.from({ length: 40 }, (_, n) => [`a/run-${n}/x.toml`, '1'])));
    const guard = createIdentityGuard({ client, index, driverFor: () => driver, recentIds: 2 });

    const firsts = [];
    for (let n = 0; n < 40; n++) {
      const first = await guard.resolve(record(ID(n), `a/run-${n}`));
      firsts.push(first);
      await client.index({ index, id: first.runId, document: { source: { root: 'lab', path: `a/run-${n}` } } });
    }
    const copies = [];
    for (let n = 0; n < 40; n++) {
      copies.push(await guard.resolve(record(ID(n), `b/run-${n}`)));
    }

    expect(firsts).toEqual(Array.from({ length: 40 }, (_, n) => ({ runId: ID(n), copyOf: null })));
    expect(copies.map((c) => c.copyOf)).toEqual(Array.from({ length: 40 }, (_, n) => ID(n)));
    expect(new Set(copies.map((c) => c.runId)).size).toBe(40);
  });

  it('on an index that started empty, looks up only ids this sync wrote, and still finds their copies', async () => {
    index = uniqueName('it-guard');
    await client.indices.create({ index, settings: { refresh_interval: '-1' } });
    const driver = memoryDriver(Object.fromEntries(Array.from({ length: 40 }, (_, n) => [`a/run-${n}/x.toml`, '1'])));
    const mgets: number[] = [];
    const counting = Object.assign(Object.create(client) as Client, {
      mget: ((params: { ids?: string[] }) => {
        mgets.push(params.ids?.length ?? 0);
        return client.mget(params);
      }) as Client['mget'],
    });
    const guard = createIdentityGuard({ client: counting, index, driverFor: () => driver, recentIds: 2, indexEmpty: true });

    for (let n = 0; n < 40; n++) {
      const first = await guard.resolve(record(ID(n), `a/run-${n}`));
      await client.index({ index, id: first.runId, document: { source: { root: 'lab', path: `a/run-${n}` } } });
    }
    const looked = mgets.length;
    const copies = [];
    for (let n = 0; n < 40; n++) {
      copies.push(await guard.resolve(record(ID(n), `b/run-${n}`)));
    }

    expect(looked).toBe(0);
    expect(copies.map((c) => c.copyOf)).toEqual(Array.from({ length: 40 }, (_, n) => ID(n)));
    expect(mgets.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(38);
  });

  it('lets a moved run keep its id when the old location is gone', async () => {
    index = uniqueName('it-guard');
    await client.indices.create({ index });
    await client.index({ index, id: ID(9), document: { source: { root: 'lab', path: 'old/run' } }, refresh: true });
    const guard = createIdentityGuard({ client, index, driverFor: () => memoryDriver({ 'new/run/x.toml': '1' }) });

    const moved = await guard.resolve(record(ID(9), 'new/run'));

    expect(moved).toEqual({ runId: ID(9), copyOf: null });
  });
});
