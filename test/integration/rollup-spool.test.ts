import { cp } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { generateRuns } from '../../bench/generate.ts';
import { syncCommand } from '../../src/cli/sync.ts';
import { WATERMARK_ID } from '../../src/rollups/compute.ts';
import { runRollups, STAMP_OVERLAP_MS } from '../../src/rollups/run.ts';
import { createRollupSpool, type RollupSpool } from '../../src/rollups/spool.ts';
import { readWatermark } from '../../src/rollups/store.ts';
import { runSync } from '../../src/sync/run.ts';
import { createTestApp, EXAMPLES, type TestApp } from './app-context.ts';
import { startBulkFaultProxy, type BulkFaultProxy } from './es-bulk-fault-proxy.ts';
import { captureIo, parseSync } from './cli-io.ts';

/**
 * A first load records what it writes (rollups/spool.ts) and its rollups read that instead of scanning the
 * runs index. The rollup documents must be the ones a full recomputation from the index makes, and the spool
 * must not be used whenever the index holds anything the sync did not write.
 */
const apps: TestApp[] = [];
const spools: RollupSpool[] = [];

let proxy: BulkFaultProxy | undefined;

afterEach(async () => {
  for (const spool of spools.splice(0)) {
    spool.dispose();
  }
  for (const app of apps.splice(0)) {
    await app.cleanup();
  }
  await proxy?.close();
  proxy = undefined;
});

/** Every rollup document but the watermark, without the time it was computed at. */
async function rollupDocs(t: TestApp): Promise<Record<string, Record<string, unknown>>> {
  await t.ctx.client.indices.refresh({ index: t.config.indices.rollups });
  const res = await t.ctx.client.search<Record<string, unknown>>({ index: t.config.indices.rollups, size: 10_000, query: { match_all: {} } });
  return Object.fromEntries(res.hits.hits.filter((h) => h._id !== WATERMARK_ID).map((h) => [h._id as string, { ...h._source, computed_at: undefined }]));
}

async function mixedApp(runs: number, opts: Parameters<typeof createTestApp>[0] = {}): Promise<TestApp> {
  const app = await createTestApp({ ...opts, from: null });
  apps.push(app);
  // Every generated format, about 3 % broken configs (parse_error documents), and the article-format examples.
  await generateRuns({ root: path.join(app.root, 'generated'), runs, seed: 17, brokenShare: 0.03 });
  await cp(EXAMPLES, path.join(app.root, 'examples'), { recursive: true });
  return app;
}

function newSpool(): RollupSpool {
  const spool = createRollupSpool();
  spools.push(spool);
  return spool;
}

describe('rollups from the runs a first load wrote (real Elasticsearch)', () => {
  it('make the documents a full recomputation from the runs index makes, memberships and stamps included', async () => {
    const app = await mixedApp(400);
    const spool = newSpool();

    const sync = await runSync(app.ctx, { mode: 'full', backfill: true, rollupSpool: spool });
    const fromSync = await runRollups(app.ctx, { full: true, spool });
    const spooledDocs = await rollupDocs(app);
    const fromIndex = await runRollups(app.ctx, { full: true });

    expect(sync.counts.parse_errors).toBeGreaterThan(0);
    expect(spool.runs).toBe(sync.counts.written);
    expect(fromSync).toMatchObject({ mode: 'full', runsFrom: 'sync', failed: 0 });
    expect(fromIndex).toMatchObject({ mode: 'full', runsFrom: 'index' });
    expect(Object.keys(spooledDocs).filter((id) => id.startsWith('run:')).length).toBeGreaterThan(380);
    expect(spooledDocs).toEqual(await rollupDocs(app));
    expect({ ...fromSync, durationMs: 0, watermark: '', runsFrom: '' }).toEqual({ ...fromIndex, durationMs: 0, watermark: '', runsFrom: '' });
  });

  it('keep the watermark within the overlap of the moment the sync started recording', async () => {
    const app = await mixedApp(20);
    const spool = newSpool();
    await runSync(app.ctx, { mode: 'full', rollupSpool: spool });
    // As if the sync had taken an hour: runs another writer replaced early in it must still be re-read by the next pass.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 3_600_000);
    try {
      await runRollups(app.ctx, { full: true, spool });
    } finally {
      vi.useRealTimers();
    }

    expect(await readWatermark(app.ctx.client, app.config.indices.rollups)).toBeLessThanOrEqual(spool.armedAt + STAMP_OVERLAP_MS);
  });

  it('read the index when another writer added a run during the sync', async () => {
    const app = await mixedApp(40);
    const spool = newSpool();
    await runSync(app.ctx, { mode: 'full', rollupSpool: spool });
    const [hit] = (await app.ctx.client.search<Record<string, unknown>>({ index: app.config.indices.runs, size: 1, query: { term: { state: 'active' } } })).hits
      .hits;
    await app.ctx.client.index({ index: app.config.indices.runs, id: 'written-by-another', document: { ...hit?._source, run_id: 'written-by-another' } });

    const report = await runRollups(app.ctx, { full: true, spool });
    const docs = await rollupDocs(app);
    await runRollups(app.ctx, { full: true });

    expect(report.runsFrom).toBe('index');
    expect(spool.poisoned).toMatch(/holds \d+ documents, the sync wrote \d+/);
    expect(docs['run:written-by-another']).toBeDefined();
    expect(docs).toEqual(await rollupDocs(app));
  });

  it('count each run once when the engine made the sync retry items and a whole request', async () => {
    const refusedOnce = new Set<string>();
    proxy = await startBulkFaultProxy(inject('esUrl'), (n, items) => {
      if (n === 2) {
        return { request: 503 };
      }
      // Every seventh item of every request is refused once, with a full write queue.
      const refused = items.filter((item, i) => i % 7 === 3 && !refusedOnce.has(item.id));
      refused.forEach((item) => refusedOnce.add(item.id));
      return { items: new Map(refused.map((item) => [item.id, 429])) };
    });
    const app = await mixedApp(120, { esUrl: proxy.url, raw: { sync: { bulk_flush_bytes: 64 * 1024, bulk_concurrency: 1 } } });
    const spool = newSpool();

    const sync = await runSync(app.ctx, { mode: 'full', rollupSpool: spool });
    const fromSync = await runRollups(app.ctx, { full: true, spool });
    const spooledDocs = await rollupDocs(app);
    await runRollups(app.ctx, { full: true });

    expect(refusedOnce.size).toBeGreaterThan(5);
    expect(sync.counts).toMatchObject({ failed: 0, written: sync.counts.found });
    expect(spool.runs).toBe(sync.counts.found);
    expect(fromSync.runsFrom).toBe('sync');
    expect(spooledDocs).toEqual(await rollupDocs(app));
  });

  it('read the index when the engine refused a document and its fallback was written instead', async () => {
    let victim = '';
    proxy = await startBulkFaultProxy(inject('esUrl'), (n, items) => {
      victim ||= items[1]?.id ?? '';
      return n === 1 ? { items: new Map([[victim, 400]]) } : null;
    });
    const app = await mixedApp(30, { esUrl: proxy.url });
    const spool = newSpool();

    const sync = await runSync(app.ctx, { mode: 'full', rollupSpool: spool });
    const report = await runRollups(app.ctx, { full: true, spool });
    const docs = await rollupDocs(app);
    await runRollups(app.ctx, { full: true });

    expect(sync.errors.map((e) => e.code)).toContain('rejected-by-engine');
    expect(spool.poisoned).toBe(`the engine refused run ${victim}; its fallback document was written`);
    expect(report.runsFrom).toBe('index');
    expect(docs).toEqual(await rollupDocs(app));
  });

  it('are not recorded by a sync into an index that already held runs', async () => {
    const app = await mixedApp(20);
    await runSync(app.ctx, { mode: 'full' });
    const spool = newSpool();

    await runSync(app.ctx, { mode: 'full', rollupSpool: spool });
    const report = await runRollups(app.ctx, { spool });

    expect(spool.poisoned).toBe('the runs index held runs before this sync');
    expect(report.runsFrom).toBe('index');
  });

  it('are what `sync` uses on a first load, and says so; a second sync reads the index', async () => {
    const app = await mixedApp(20);
    const first = captureIo();
    const second = captureIo();

    expect(await syncCommand(app.ctx, parseSync([]), first)).toBe(0);
    expect(await syncCommand(app.ctx, parseSync([]), second)).toBe(0);

    expect(first.out.join('\n')).toMatch(/rollups \(full, from the runs this sync wrote\): /);
    expect(second.out.join('\n')).toMatch(/rollups \(incremental\): 0 runs since the last rollup/);
  });
});
