import { appendFile, cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runSync } from '../../src/sync/run.ts';
import { searchRuns } from '../../src/search/run.ts';
import { ARTICLE_QUERY } from '../../src/cli/sync.ts';
import { createTestApp, type TestApp } from './app-context.ts';

let app: TestApp | undefined;

afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

async function allDocs(t: TestApp): Promise<Map<string, Record<string, unknown>>> {
  await t.ctx.client.indices.refresh({ index: t.config.indices.runs });
  const res = await t.ctx.client.search<Record<string, unknown>>({ index: t.config.indices.runs, size: 1000, sort: [{ run_id: 'asc' }] });
  return new Map(res.hits.hits.map((h) => [h._id as string, h._source ?? {}]));
}

describe('sync/run (real Elasticsearch)', () => {
  it('indexes the example runs, the article query finds the cyberpunk run, a broken YAML becomes a parse_error doc', async () => {
    app = await createTestApp();

    const report = await runSync(app.ctx, { mode: 'full' });

    expect(report.status).toBe('ok');
    expect(report.counts).toMatchObject({ found: 5, new: 5, changed: 0, unchanged: 0, vanished: 0, parse_errors: 1, failed: 0, written: 5 });
    const hits = await app.ctx.client.search<Record<string, unknown>>({ index: app.config.indices.runs, ...ARTICLE_QUERY });
    expect(hits.hits.hits.map((h) => (h._source?.source as { path: string }).path)).toEqual(['2025-03-02-cyberpunk-city-r8']);
    const docs = [...(await allDocs(app)).values()];
    const broken = docs.find((d) => (d.source as { path: string }).path === '2025-07-14-broken-config');
    expect(broken).toMatchObject({ status: 'parse_error', parse_error: { file: '2025-07-14-broken-config/config.yaml' } });
    expect(String((broken?.parse_error as { message: string }).message)).toMatch(/invalid YAML/);
    const city = docs.find((d) => (d.source as { path: string }).path === '2025-03-02-cyberpunk-city-r8');
    expect(city).toMatchObject({
      lora_rank: 8,
      batch_size: 4,
      epochs: 10,
      learning_rate: 0.0002,
      loss_final: 0.0412,
      status: 'completed',
      base_model_family: 'sd15',
      state: 'active',
    });
    const syncDoc = await app.ctx.client.get({ index: app.config.indices.sync_runs, id: report.sync_id });
    expect(syncDoc.found).toBe(true);
  });

  it('a second sync of the same tree writes nothing and leaves the same documents (stable ids)', async () => {
    app = await createTestApp();
    await runSync(app.ctx, { mode: 'full' });
    const before = await allDocs(app);

    const report = await runSync(app.ctx, { mode: 'full' });

    expect(report.counts).toMatchObject({ found: 5, new: 0, changed: 0, unchanged: 5, written: 0 });
    const after = await allDocs(app);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [id, doc] of after) {
      expect(doc).toEqual(before.get(id));
    }
  });

  it('classifies changed, vanished and reappeared runs', async () => {
    app = await createTestApp();
    await runSync(app.ctx, { mode: 'full' });
    const run = path.join(app.root, '2025-04-11-ink-wash-landscape-r16');
    const parked = path.join(path.dirname(app.root), `${path.basename(app.root)}-parked`);
    await appendFile(path.join(app.root, '2025-06-08-cyberpunk-street-r32', 'logs', 'train.log'), '[2025-06-08 12:00:00] epoch 7/7 step 61 loss 0.0650\n');
    await rename(run, parked);

    const second = await runSync(app.ctx, { mode: 'full' });

    expect(second.counts).toMatchObject({ found: 4, new: 0, changed: 1, unchanged: 3, vanished: 1 });
    let docs = [...(await allDocs(app)).values()];
    const street = docs.find((d) => (d.source as { path: string }).path === '2025-06-08-cyberpunk-street-r32');
    expect(street?.loss_final).toBe(0.065);
    const ink = docs.find((d) => (d.source as { path: string }).path === '2025-04-11-ink-wash-landscape-r16');
    expect(ink).toMatchObject({ state: 'vanished', vanish_reason: 'not-found' });
    expect(typeof ink?.vanished_at).toBe('string');
    const hidden = await searchRuns(app.ctx.client, app.config.indices.runs, '水墨', { now: new Date() });
    const shown = await searchRuns(app.ctx.client, app.config.indices.runs, '水墨', { now: new Date(), includeVanished: true });
    expect([hidden.total, shown.total]).toEqual([0, 1]);

    await rename(parked, run);
    const third = await runSync(app.ctx, { mode: 'full' });

    expect(third.counts).toMatchObject({ found: 5, reappeared: 1, unchanged: 4, vanished: 0 });
    docs = [...(await allDocs(app)).values()];
    expect(docs.filter((d) => d.state === 'active')).toHaveLength(5);
  });

  it('a source that fails to list, or lists empty where runs were, marks nothing vanished', async () => {
    app = await createTestApp();
    await runSync(app.ctx, { mode: 'full' });
    await rm(app.root, { recursive: true });

    const missing = await runSync(app.ctx, { mode: 'full' });

    expect(missing.sources[0]).toMatchObject({ complete: false });
    expect(missing.sources[0]?.error).toMatch(/storage|ENOENT|list/);
    expect(missing.counts.vanished).toBe(0);
    await mkdir(app.root);

    const empty = await runSync(app.ctx, { mode: 'full' });

    expect(empty.sources[0]?.error).toMatch(/listed empty but the catalogue holds 5 active runs/);
    expect(empty.counts.vanished).toBe(0);
    const docs = [...(await allDocs(app)).values()];
    expect(docs.every((d) => d.state === 'active')).toBe(true);
  });

  it('refuses a mass vanish unless allowed, and honours the grace period', async () => {
    app = await createTestApp({ raw: { sync: { max_vanish_share: 0.3, vanish_grace: '1h' } } });
    await runSync(app.ctx, { mode: 'full' });
    for (const dir of ['2025-03-02-cyberpunk-city-r8', '2025-04-11-ink-wash-landscape-r16']) {
      await rm(path.join(app.root, dir), { recursive: true });
    }

    const first = await runSync(app.ctx, { mode: 'full' });

    expect(first.counts.vanished).toBe(0);
    let docs = [...(await allDocs(app)).values()];
    expect(docs.filter((d) => d.missing_since !== null)).toHaveLength(2);
    app.setNow(new Date(Date.now() + 2 * 3_600_000));

    const refused = await runSync(app.ctx, { mode: 'full' });

    expect(refused.status).toBe('failed');
    expect(refused.errors[0]?.code).toBe('mass-vanish');
    docs = [...(await allDocs(app)).values()];
    expect(docs.every((d) => d.state === 'active')).toBe(true);

    const allowed = await runSync(app.ctx, { mode: 'full', allowMassVanish: true });

    expect(allowed.counts.vanished).toBe(2);
    docs = [...(await allDocs(app)).values()];
    expect(docs.filter((d) => d.state === 'vanished')).toHaveLength(2);
  });

  it('a copy of a run gets its own id with copy_of; a moved run keeps its id', async () => {
    app = await createTestApp();
    await runSync(app.ctx, { mode: 'full' });
    const before = [...(await allDocs(app)).values()];
    const city = before.find((d) => (d.source as { path: string }).path === '2025-03-02-cyberpunk-city-r8');
    const ink = before.find((d) => (d.source as { path: string }).path === '2025-04-11-ink-wash-landscape-r16');
    await mkdir(path.join(app.root, 'archive'));
    await cp(path.join(app.root, '2025-03-02-cyberpunk-city-r8'), path.join(app.root, 'archive', 'city-copy'), { recursive: true });
    await rename(path.join(app.root, '2025-04-11-ink-wash-landscape-r16'), path.join(app.root, 'archive', 'ink-moved'));

    const report = await runSync(app.ctx, { mode: 'full' });

    expect(report.counts).toMatchObject({ found: 6, new: 2, unchanged: 4 });
    const after = [...(await allDocs(app)).values()];
    const copy = after.find((d) => (d.source as { path: string }).path === 'archive/city-copy');
    expect(copy?.copy_of).toBe(city?.run_id);
    expect(copy?.run_id).not.toBe(city?.run_id);
    const moved = after.find((d) => d.run_id === ink?.run_id);
    expect(moved).toMatchObject({ state: 'active', source: { path: 'archive/ink-moved' }, copy_of: null });
    expect(after.filter((d) => d.state === 'active')).toHaveLength(6);
    const again = await runSync(app.ctx, { mode: 'full' });
    expect(again.counts).toMatchObject({ found: 6, unchanged: 6, written: 0 });
  });

  it('no secret from a training config reaches the index', async () => {
    app = await createTestApp();
    const config = path.join(app.root, '2025-03-02-cyberpunk-city-r8', 'config.yaml');
    await appendFile(
      config,
      'hub_token: "hf_SECRETsecretSECRETsecretSECRETsecret12"\nwandb_api_key: 0123456789abcdef0123456789abcdef01234567\ndataset_url: "https://alice:pa55w0rd@data.example.com/set.tar"\n',
    );

    await runSync(app.ctx, { mode: 'full' });

    const res = await app.ctx.client.search({ index: app.config.indices.runs, size: 100 });
    const raw = JSON.stringify(res.hits.hits);
    for (const secret of ['hf_SECRETsecret', '0123456789abcdef0123456789abcdef01234567', 'pa55w0rd']) {
      expect(raw).not.toContain(secret);
    }
    expect(raw).toContain('[REDACTED]');
  });

  it('sharded backfill: shards are disjoint, together they are the whole tree, and a full sync after finds nothing to do', async () => {
    app = await createTestApp();

    const shards = [];
    for (let index = 0; index < 3; index++) {
      shards.push(await runSync(app.ctx, { mode: 'full', backfill: true, shard: { index, count: 3 } }));
    }

    expect(shards.map((r) => r.counts.found).reduce((a, b) => a + b, 0)).toBe(5);
    expect(shards.every((r) => r.counts.vanished === 0)).toBe(true);
    const full = await runSync(app.ctx, { mode: 'full' });
    expect(full.counts).toMatchObject({ found: 5, unchanged: 5, new: 0, vanished: 0 });
  });

  it('dry-run prints the plan and writes nothing', async () => {
    app = await createTestApp();

    const report = await runSync(app.ctx, { mode: 'full', dryRun: true });

    expect(report.counts).toMatchObject({ found: 5, new: 5, written: 0 });
    expect(report.sample.new).toHaveLength(5);
    expect(await app.ctx.client.indices.exists({ index: app.config.indices.runs })).toBe(false);
  });

  it('incremental mode re-reads only the given prefix and never marks vanished', async () => {
    app = await createTestApp();
    await runSync(app.ctx, { mode: 'full' });
    await appendFile(path.join(app.root, '2025-03-02-cyberpunk-city-r8', 'logs', 'train.log'), 'note\n');
    await rm(path.join(app.root, '2025-04-11-ink-wash-landscape-r16'), { recursive: true });

    const report = await runSync(app.ctx, { mode: 'incremental', prefixes: ['2025-03-02-cyberpunk-city-r8'] });

    expect(report.counts).toMatchObject({ found: 1, changed: 1, vanished: 0 });
  });

  it('reports write failures by id and fails the sync instead of dropping them', async () => {
    app = await createTestApp();
    await runSync(app.ctx, { mode: 'full' });
    await writeFile(path.join(app.root, '2025-03-02-cyberpunk-city-r8', 'logs', 'train.log'), '[2025-03-02 09:00:00] epoch 1 loss 0.5\n');
    await app.ctx.client.indices.putSettings({ index: app.config.indices.runs, settings: { 'index.blocks.write': true } });

    const report = await runSync({ ...app.ctx, config: { ...app.config, sync: { ...app.config.sync, bulk_retries: 1 } } }, { mode: 'full' });

    await app.ctx.client.indices.putSettings({ index: app.config.indices.runs, settings: { 'index.blocks.write': false } });
    expect(report.status).toBe('failed');
    expect(report.counts.failed).toBe(1);
    expect(report.errors[0]).toMatchObject({ code: 'bulk-403' });
  });

  it('backfill mode turns refresh off while loading and restores it, also after a crash', async () => {
    app = await createTestApp();
    await runSync(app.ctx, { mode: 'full' });
    const index = app.config.indices.runs;
    await app.ctx.client.indices.putMapping({
      index,
      _meta: { mapping_version: 1, backfill: { refresh_interval: '7s', number_of_replicas: '0', started_at: new Date().toISOString() } },
    });
    await app.ctx.client.indices.putSettings({ index, settings: { index: { refresh_interval: '-1' } } });

    await runSync(app.ctx, { mode: 'full' });

    const settings = await app.ctx.client.indices.getSettings({ index, flat_settings: true });
    expect(Object.values(settings)[0]?.settings?.['index.refresh_interval']).toBe('7s');
    const report = await runSync(app.ctx, { mode: 'full', backfill: true });
    expect(report.status).toBe('ok');
    const after = await app.ctx.client.indices.getSettings({ index, flat_settings: true });
    expect(Object.values(after)[0]?.settings?.['index.refresh_interval']).toBe('7s');
  });
});
