import { execFile } from 'node:child_process';
import { appendFile, cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { generateRuns } from '../../bench/generate.ts';
import { syncCommand } from '../../src/cli/sync.ts';
import { loadRollupRows, renderRollups } from '../../src/cli/rollups-show.ts';
import { deleteIndexQuietly } from './helpers.ts';
import { INDEX_SETTINGS, rollupsMappings } from '../../src/es/mappings.ts';
import { runRollups } from '../../src/rollups/run.ts';
import { COUNTED_RUNS, readWatermark, scanRunPages } from '../../src/rollups/store.ts';
import { runSync } from '../../src/sync/run.ts';
import { createTestApp, type TestApp } from './app-context.ts';
import { captureIo, parseSync } from './cli-io.ts';

let app: TestApp | undefined;

afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

async function rollupDocs(t: TestApp): Promise<Record<string, Record<string, unknown>>> {
  await t.ctx.client.indices.refresh({ index: t.config.indices.rollups });
  const res = await t.ctx.client.search<Record<string, unknown>>({ index: t.config.indices.rollups, size: 10_000, sort: [{ key: 'asc' }, { epoch: 'asc' }] });
  return Object.fromEntries(res.hits.hits.map((h) => [h._id as string, { ...h._source, computed_at: undefined, rollup_stamp: undefined }]));
}

/**
 * The curve docs the runs index implies, computed the plain way from every counted run's own
 * `loss_per_epoch`: per curve key and epoch, the runs with a finite mean there, and their mean, min and max.
 */
async function expectedCurves(t: TestApp): Promise<Map<string, { runs: number; mean: number; min: number; max: number }>> {
  const values = new Map<string, number[]>();
  for await (const page of scanRunPages(t.ctx.client, t.config.indices.runs, COUNTED_RUNS)) {
    for (const run of page) {
      for (const key of run.rollup_keys.filter((k) => k.startsWith('curve'))) {
        for (const point of run.loss_per_epoch) {
          if (typeof point.mean === 'number' && Number.isFinite(point.mean)) {
            const id = `${key}:${point.epoch}`;
            values.set(id, [...(values.get(id) ?? []), point.mean]);
          }
        }
      }
    }
  }
  return new Map(
    [...values].map(([id, v]) => [id, { runs: v.length, mean: v.reduce((a, b) => a + b, 0) / v.length, min: Math.min(...v), max: Math.max(...v) }]),
  );
}

/** The curve docs of the rollup index against expectedCurves: the same ids, and per id the same runs, min, max and mean. */
async function expectCurvesMatchRuns(t: TestApp): Promise<number> {
  const docs = Object.entries(await rollupDocs(t)).filter(([, d]) => d.kind === 'curve' || d.kind === 'curve_rank');
  const want = await expectedCurves(t);

  expect(docs.map(([id]) => id).sort()).toEqual([...want.keys()].sort());
  for (const [id, doc] of docs) {
    const w = want.get(id);
    expect([id, doc.runs, doc.loss_min, doc.loss_max]).toEqual([id, w?.runs, w?.min, w?.max]);
    expect(doc.loss_mean as number).toBeCloseTo(w?.mean as number, 12);
    expect(doc.loss_sum as number).toBeCloseTo((w?.mean as number) * (w?.runs as number), 12);
  }
  return docs.length;
}

describe('rollups/run (real Elasticsearch)', () => {
  it('computes the documented buckets with exact values', async () => {
    app = await createTestApp();
    await runSync(app.ctx, { mode: 'full' });

    await runRollups(app.ctx);

    const docs = await rollupDocs(app);
    expect(docs['rank:8']).toMatchObject({
      kind: 'rank',
      lora_rank: 8,
      count: 1,
      completed: 1,
      failed: 0,
      loss_mean: 0.0412,
      loss_p50: 0.0412,
      success_rate: 1,
    });
    expect(docs['rank:none']).toMatchObject({ kind: 'rank', count: 1 });
    expect(docs['base_rank:image/sd15|32']).toMatchObject({
      base_model_family: 'sd15',
      task: 'image',
      family_group: 'image/sd15',
      lora_rank: 32,
      loss_mean: 0.0711,
      cross_family: false,
    });
    expect(docs['lr_rank:image/sd15|1e-4..3e-4|8']).toMatchObject({ lr_band: '1e-4..3e-4', lr_band_low: 0.0001, lora_rank: 8, base_model_family: 'sd15' });
    expect(docs['week:2025-W09|lora-scripts-yaml']).toMatchObject({ kind: 'week', week_start: '2025-02-24T00:00:00.000Z', started: 1, completed: 1 });
    // Only cyberpunk-city (sd15, rank 8) reaches epoch 10; broken-config (rank 8 too) has no family, so no curve.
    expect(docs['curve:image/sd15:10']).toMatchObject({
      kind: 'curve',
      key: 'curve:image/sd15',
      family_group: 'image/sd15',
      task: 'image',
      base_model_family: 'sd15',
      epoch: 10,
      runs: 1,
    });
    expect(docs['curve_rank:image/sd15:8:10']).toMatchObject({ kind: 'curve_rank', key: 'curve_rank:image/sd15:8', lora_rank: 8, epoch: 10, runs: 1 });
    expect(docs['curve:image/sd15:1']).toMatchObject({ runs: 4 });
    expect(Object.keys(docs).filter((id) => id.startsWith('curve') && id.includes('unknown'))).toEqual([]);
    expect(Object.values(docs).filter((d) => d.kind === 'run_epoch')).toEqual([]);
    await expectCurvesMatchRuns(app);
  });

  it('a backfill writes O(buckets) rollup docs: one curve doc per bucket and epoch, none per run', async () => {
    app = await createTestApp({ from: null });
    await generateRuns({ root: app.root, runs: 300, seed: 5 });
    const sync = await runSync(app.ctx, { mode: 'full' });

    const report = await runRollups(app.ctx);

    const runs = sync.counts.found;
    const docs = Object.values(await rollupDocs(app));
    const byKind = (kind: string) => docs.filter((d) => d.kind === kind).length;
    const curveBuckets = new Set(docs.filter((d) => d.kind === 'curve' || d.kind === 'curve_rank').map((d) => d.key)).size;
    const maxEpoch = Math.max(...docs.filter((d) => d.kind === 'curve').map((d) => d.epoch as number));
    let runEpochs = 0;
    for await (const page of scanRunPages(app.ctx.client, app.config.indices.runs, COUNTED_RUNS)) {
      runEpochs += page.reduce((n, run) => n + run.loss_per_epoch.length, 0);
    }
    const curveDocs = await expectCurvesMatchRuns(app);
    expect(runs).toBeGreaterThan(250);
    expect(byKind('run_epoch')).toBe(0);
    expect(curveBuckets).toBeGreaterThan(1);
    expect(report.curveDocs).toBe(curveDocs);
    expect(byKind('curve') + byKind('curve_rank')).toBe(curveDocs);
    expect(curveDocs).toBeLessThanOrEqual(curveBuckets * maxEpoch);
    // Seed 5: 161 curve docs where one doc per run and epoch made 1,253.
    expect(curveDocs).toBeLessThan(runEpochs / 5);
    expect(docs.filter((d) => d.kind !== 'run_member' && d.run_id !== undefined)).toEqual([]);
    // One membership per counted run, and the bucket docs: nothing else.
    expect(report.written).toBe(byKind('run_member') + (report.buckets - curveBuckets) + curveDocs);
  });

  it('after one run changes its loss, and then loses its last epoch, the incremental rollup equals a full recomputation', async () => {
    app = await createTestApp();
    await runSync(app.ctx, { mode: 'full' });
    await runRollups(app.ctx);
    const before = await rollupDocs(app);
    const log = path.join(app.root, '2025-03-02-cyberpunk-city-r8', 'logs', 'train.log');
    const text = await readFile(log, 'utf8');
    await writeFile(log, text.replace('epoch 1/10 step 1 loss 0.1774', 'epoch 1/10 step 1 loss 0.9774'));
    await runSync(app.ctx, { mode: 'full' });

    const changed = await runRollups(app.ctx);
    const afterChange = await rollupDocs(app);
    await runRollups(app.ctx, { full: true });
    const changedFull = await rollupDocs(app);
    await writeFile(
      log,
      text
        .split('\n')
        .filter((line) => !line.includes('epoch 10/10'))
        .join('\n'),
    );
    await runSync(app.ctx, { mode: 'full' });
    const shortened = await runRollups(app.ctx);
    const afterShortening = await rollupDocs(app);
    await runRollups(app.ctx, { full: true });

    expect(changed).toMatchObject({ mode: 'incremental', dirtyRuns: 1 });
    expect(afterChange).toEqual(changedFull);
    expect((afterChange['curve:image/sd15:1']?.loss_mean as number) - (before['curve:image/sd15:1']?.loss_mean as number)).toBeGreaterThan(0);
    expect(afterChange['curve:image/sd15:2']).toEqual(before['curve:image/sd15:2']);
    expect(shortened).toMatchObject({ mode: 'incremental', dirtyRuns: 1 });
    expect(afterShortening['curve:image/sd15:10']).toBeUndefined();
    expect(afterShortening['curve_rank:image/sd15:8:10']).toBeUndefined();
    expect(afterShortening['curve_rank:image/sd15:8:9']).toMatchObject({ runs: 1 });
    expect(afterShortening).toEqual(await rollupDocs(app));
    await expectCurvesMatchRuns(app);
  });

  it('upgrading a rollup index of an earlier version: the curve fields are added, and its run_epoch docs go in one full recomputation', async () => {
    app = await createTestApp();
    await runSync(app.ctx, { mode: 'full' });
    const index = app.config.indices.rollups;
    await deleteIndexQuietly(app.ctx.client, index);
    const { runs: _runs, loss_sum: _sum, ...earlier } = rollupsMappings().properties ?? {};
    await app.ctx.client.indices.create({
      index: `${index}-earlier`, // not `-v*`: the index template would add today's fields
      settings: INDEX_SETTINGS,
      mappings: { dynamic: 'strict', properties: earlier },
      aliases: { [index]: { is_write_index: true } },
    });
    const legacy = {
      kind: 'run_epoch',
      key: 'run:old',
      run_id: 'old',
      epoch: 1,
      loss_mean: 0.1,
      loss_last: 0.1,
      steps: 3,
      computed_at: '2025-01-01T00:00:00Z',
    };
    await app.ctx.client.index({ index, id: 'run_epoch:old:1', document: legacy, refresh: true });
    await runRollups(app.ctx);
    await app.ctx.client.index({ index, id: 'run_epoch:old:2', document: { ...legacy, epoch: 2 }, refresh: true });

    const upgraded = await runRollups(app.ctx);

    const mapping = await app.ctx.client.indices.getMapping({ index });
    const properties = Object.values(mapping)[0]?.mappings.properties ?? {};
    expect([properties.runs?.type, properties.loss_sum?.type]).toEqual(['long', 'double']);
    // A watermark exists by now, yet the leftover run_epoch doc makes the pass full, which removes it.
    expect(upgraded).toMatchObject({ mode: 'full', failed: 0 });
    const docs = await rollupDocs(app);
    expect(Object.values(docs).filter((d) => d.kind === 'run_epoch')).toEqual([]);
    expect(docs['curve:image/sd15:1']).toMatchObject({ runs: 4 });
    expect(await runRollups(app.ctx)).toMatchObject({ mode: 'incremental', written: 0 });
  });

  it('rollups show reads the rank, family × rank and lr × rank buckets and narrows them by family and rank', async () => {
    app = await createTestApp();
    await runSync(app.ctx, { mode: 'full' });
    await runRollups(app.ctx);
    await app.ctx.client.indices.refresh({ index: app.config.indices.rollups });

    const all = await loadRollupRows(app.ctx.client, app.config.indices.rollups, {});
    const sd15r8 = await loadRollupRows(app.ctx.client, app.config.indices.rollups, { family: 'sd15', rank: 8 });
    const none = await loadRollupRows(app.ctx.client, app.config.indices.rollups, { family: 'sdxl' });
    const text = renderRollups(sd15r8, { colour: false, columns: null });

    expect(new Set(all.map((r) => r.kind))).toEqual(new Set(['rank', 'base_rank', 'lr_rank']));
    expect(sd15r8.map((r) => [r.kind, r.family_group ?? null, r.lr_band ?? null, r.lora_rank, r.loss_mean]).sort()).toEqual([
      ['base_rank', 'image/sd15', null, 8, 0.0412],
      ['lr_rank', 'image/sd15', '1e-4..3e-4', 8, 0.0412],
      ['rank', null, null, 8, 0.0412],
    ]);
    expect(none.every((r) => r.kind === 'rank')).toBe(true);
    expect(text).toContain('Learning rate × LoRA rank, image/sd15: mean final loss (runs)');
    expect(text).toMatch(/1e-4\.\.3e-4 +0\.0412 \(1\)\*/);
  });

  it('rollups show colours the heat map on a terminal (a pseudo-terminal from util-linux script) and not when piped', async () => {
    app = await createTestApp();
    await runSync(app.ctx, { mode: 'full' });
    await runRollups(app.ctx);
    const config = path.join(app.root, 'cli.yaml');
    await writeFile(
      config,
      `elasticsearch:\n  url: ${inject('esUrl')}\nindices:\n  runs: ${app.config.indices.runs}\n  rollups: ${app.config.indices.rollups}\n  sync_runs: ${app.config.indices.sync_runs}\n  leases: ${app.config.indices.leases}\n`,
    );
    const main = path.resolve(import.meta.dirname, '../../src/cli/main.ts');
    const args = [process.execPath, main, 'rollups', 'show', '--family', 'sd15', '--config', config];
    const run = promisify(execFile);

    const tty = (await run('script', ['-q', '-e', '-c', `stty cols 120 rows 50; ${args.map((a) => `'${a}'`).join(' ')}`, '/dev/null'], { timeout: 60_000 }))
      .stdout;
    const piped = (await run(args[0] as string, args.slice(1), { timeout: 60_000 })).stdout;

    expect(tty).toContain('\u001b[48;5;');
    expect(tty).toContain('green = lowest, red = highest of this family');
    expect(piped).not.toContain('\u001b[');
    expect(piped).toMatch(/1e-4\.\.3e-4 +· +0\.0412 \(1\)\*/);
  });

  it('a rollup pass right after a completed one, with no run written in between, recomputes and writes nothing', async () => {
    app = await createTestApp();
    await runSync(app.ctx, { mode: 'full' });
    await runRollups(app.ctx);
    const before = await rollupDocs(app);

    const again = await runRollups(app.ctx);
    const resync = await runSync(app.ctx, { mode: 'full' });
    const afterResync = await runRollups(app.ctx);

    expect(again).toMatchObject({ mode: 'incremental', dirtyRuns: 0, buckets: 0, written: 0 });
    expect(resync.counts).toMatchObject({ unchanged: 5, written: 0 });
    expect(afterResync).toMatchObject({ mode: 'incremental', dirtyRuns: 0, written: 0 });
    expect(await rollupDocs(app)).toEqual(before);
  });

  it('an incremental rollup of the touched buckets equals a full recomputation', async () => {
    app = await createTestApp();
    await runSync(app.ctx, { mode: 'full' });
    await runRollups(app.ctx);
    await appendFile(path.join(app.root, '2025-06-08-cyberpunk-street-r32', 'logs', 'train.log'), '[2025-06-08 12:00:00] epoch 7/7 step 61 loss 0.0300\n');
    await rm(path.join(app.root, '2025-04-11-ink-wash-landscape-r16'), { recursive: true });
    await cp(path.join(app.root, '2025-03-02-cyberpunk-city-r8'), path.join(app.root, '2025-08-01-cyberpunk-city-r8-seed2'), { recursive: true });
    await appendFile(
      path.join(app.root, '2025-08-01-cyberpunk-city-r8-seed2', 'logs', 'train.log'),
      '[2025-08-01 09:00:00] epoch 11/11 step 121 loss 0.0380\n',
    );
    const report = await runSync({ ...app.ctx, config: { ...app.config, sync: { ...app.config.sync, max_vanish_share: 0.5 } } }, { mode: 'full' });
    expect(report.counts).toMatchObject({ new: 1, changed: 1, vanished: 1 });

    const incremental = await runRollups(app.ctx);
    const afterIncremental = await rollupDocs(app);
    const full = await runRollups(app.ctx, { full: true });
    const afterFull = await rollupDocs(app);

    expect(incremental.mode).toBe('incremental');
    expect(incremental.dirtyRuns).toBeGreaterThanOrEqual(3);
    expect(full.mode).toBe('full');
    expect(afterIncremental).toEqual(afterFull);
    expect(afterFull['rank:16']).toBeUndefined();
    // The rank-16 run vanished: its per-rank curve goes with it, epoch by epoch.
    expect(Object.keys(afterIncremental).filter((id) => id.startsWith('curve_rank:image/sd15:16'))).toEqual([]);
    expect(afterIncremental['curve:image/sd15:11']).toMatchObject({ runs: 1 });
    expect(Object.keys(afterFull).some((id) => id.startsWith('config:'))).toBe(true);
  });

  it('catches up with runs written while no rollup ran, and removes buckets left without runs', async () => {
    app = await createTestApp();
    await runSync(app.ctx, { mode: 'full' });
    await runRollups(app.ctx);
    await rm(path.join(app.root, '2025-04-11-ink-wash-landscape-r16'), { recursive: true });
    await runSync({ ...app.ctx, config: { ...app.config, sync: { ...app.config.sync, max_vanish_share: 0.5 } } }, { mode: 'full' });
    await cp(path.join(app.root, '2025-03-02-cyberpunk-city-r8'), path.join(app.root, '2025-08-01-cyberpunk-city-r8-seed2'), { recursive: true });
    await runSync(app.ctx, { mode: 'full' });

    const caughtUp = await runRollups(app.ctx);
    const incremental = await rollupDocs(app);
    await runRollups(app.ctx, { full: true });

    expect(caughtUp.mode).toBe('incremental');
    expect(incremental['rank:16']).toBeUndefined();
    expect(incremental).toEqual(await rollupDocs(app));
  });

  it('a rollup phase that cannot write fails the sync exit code, says which phase, and keeps the watermark', async () => {
    app = await createTestApp();
    const io = captureIo();
    expect(await syncCommand(app.ctx, parseSync([]), io)).toBe(0);
    const watermark = await readWatermark(app.ctx.client, app.config.indices.rollups);
    await appendFile(path.join(app.root, '2025-06-08-cyberpunk-street-r32', 'logs', 'train.log'), '[2025-06-08 12:00:00] epoch 7/7 step 61 loss 0.0300\n');
    await app.ctx.client.indices.putSettings({ index: app.config.indices.rollups, settings: { 'index.blocks.write': true } });

    const failed = captureIo();
    const code = await syncCommand(app.ctx, parseSync([]), failed);
    await app.ctx.client.indices.putSettings({ index: app.config.indices.rollups, settings: { 'index.blocks.write': false } });
    const after = await readWatermark(app.ctx.client, app.config.indices.rollups);
    const retry = captureIo();
    const retried = await syncCommand(app.ctx, parseSync([]), retry);

    expect(code).toBe(1);
    expect(failed.out.join('\n')).toMatch(/^Sync failed .*\n[\s\S]*FAILED phase rollups: \[rollups\]/);
    const recorded = await app.ctx.client.search<{ status: string; failed_phase?: string }>({
      index: app.config.indices.sync_runs,
      query: { term: { failed_phase: 'rollups' } },
    });
    expect(recorded.hits.hits.map((h) => h._source?.status)).toEqual(['failed']);
    expect(after).toBe(watermark);
    expect(retried).toBe(0);
    expect(retry.out.join('\n')).toMatch(/rollups \(incremental\): [1-9]\d* runs since the last rollup/);
    expect((await rollupDocs(app))['base_rank:image/sd15|32']).toMatchObject({ loss_min: 0.03 });
  });
});
