import { afterEach, describe, expect, it } from 'vitest';
import { leaveBackfill, joinBackfill, liveBackfillMembers, registeredOriginal } from '../../src/sync/backfill-registry.ts';
import { runSync } from '../../src/sync/run.ts';
import { createTestApp, type TestApp } from './app-context.ts';

let app: TestApp | undefined;

afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

async function settingsOf(t: TestApp): Promise<{ refresh: unknown; replicas: unknown }> {
  const res = await t.ctx.client.indices.getSettings({ index: t.config.indices.runs, flat_settings: true });
  const s = Object.values(res)[0]?.settings ?? {};
  return { refresh: s['index.refresh_interval'], replicas: s['index.number_of_replicas'] };
}

async function prepare(): Promise<{ t: TestApp; target: { client: TestApp['ctx']['client']; leases: string; runs: string } }> {
  const t = await createTestApp();
  await runSync(t.ctx, { mode: 'full' });
  await t.ctx.client.indices.putSettings({ index: t.config.indices.runs, settings: { index: { refresh_interval: '7s', number_of_replicas: 0 } } });
  return { t, target: { client: t.ctx.client, leases: t.config.indices.leases, runs: t.config.indices.runs } };
}

describe('src/sync/backfill-registry (real Elasticsearch)', () => {
  it('a late shard never records the backfill settings as original; the last shard out restores once', async () => {
    const { t, target } = await prepare();
    app = t;
    const now = new Date();
    const later = new Date(now.getTime() + 60_000);

    await joinBackfill(target, 'shard-0', later, null);
    const during = await settingsOf(t);
    await joinBackfill(target, 'shard-1', later, null);
    const original = await registeredOriginal(target);
    const firstOut = await leaveBackfill(target, 'shard-0', now);
    const afterFirst = await settingsOf(t);
    const lastOut = await leaveBackfill(target, 'shard-1', now);

    expect(during).toEqual({ refresh: '-1', replicas: '0' });
    expect(original).toEqual({ refresh_interval: '7s', number_of_replicas: '0' });
    expect(firstOut).toBe('others-live');
    expect(afterFirst.refresh).toBe('-1');
    expect(lastOut).toBe('restored');
    expect((await settingsOf(t)).refresh).toBe('7s');
    expect(await registeredOriginal(target)).toBeNull();
  });

  it('concurrent backfill shards (runSync) end with the original settings and no registry left', async () => {
    const { t, target } = await prepare();
    app = t;

    const shards = await Promise.all([0, 1, 2].map(async (index) => runSync(t.ctx, { mode: 'full', backfill: true, shard: { index, count: 3 } })));

    expect(shards.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
    expect((await settingsOf(t)).refresh).toBe('7s');
    expect(await registeredOriginal(target)).toBeNull();
  });

  it("a normal sync's crash recovery leaves a live backfill alone, and restores once the crashed shard's entry expired", async () => {
    const { t, target } = await prepare();
    app = t;
    const now = new Date();
    await joinBackfill(target, 'crashed-shard', new Date(now.getTime() + 60_000), null);

    await runSync(t.ctx, { mode: 'incremental' });
    const underLive = await settingsOf(t);
    const live = await liveBackfillMembers(target, now);
    t.setNow(new Date(now.getTime() + 120_000));
    await runSync(t.ctx, { mode: 'incremental' });

    expect(underLive.refresh).toBe('-1');
    expect(live).toEqual(['crashed-shard']);
    expect((await settingsOf(t)).refresh).toBe('7s');
    expect(await registeredOriginal(target)).toBeNull();
  });

  it('restores settings a previous version left in the runs mapping _meta', async () => {
    const { t } = await prepare();
    app = t;
    const index = t.config.indices.runs;
    await t.ctx.client.indices.putMapping({
      index,
      _meta: { mapping_version: 1, backfill: { refresh_interval: '5s', number_of_replicas: '0', started_at: new Date().toISOString() } },
    });
    await t.ctx.client.indices.putSettings({ index, settings: { index: { refresh_interval: '-1' } } });

    await runSync(t.ctx, { mode: 'full' });

    expect((await settingsOf(t)).refresh).toBe('5s');
  });
});
