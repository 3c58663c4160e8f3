import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateRuns } from '../../bench/generate.ts';
import { runRollups } from '../../src/rollups/run.ts';
import { readWatermark } from '../../src/rollups/store.ts';
import { runSync } from '../../src/sync/run.ts';
import { createTestApp, type TestApp } from './app-context.ts';
import { copyTree, expectSameAsCleanSync, runCount as countRuns, startSync as startCliSync, until, type SyncChild } from './convergence.ts';

/**
 * Faults in every phase of a sync (SIGKILL while writing runs, SIGKILL while writing rollups, the engine
 * paused mid-bulk), each followed by one normal sync: the rollup index and the active runs must then equal
 * an uninterrupted sync of the same tree into fresh indices, id for id and value for value.
 */
const apps: TestApp[] = [];
let tree = '';
let app: TestApp;
let configFile = '';
/** Years of the generated tree removed from the synced root: their runs are the only ones vanished. */
const removedYears = new Set<string>();
/** For the paused engine only: requests give up after 2 s, so the pause fails the sync instead of just slowing it. */
let impatientConfigFile = '';

beforeAll(async () => {
  tree = await mkdtemp(path.join(os.tmpdir(), 'lora-rollup-faults-'));
  await generateRuns({ root: tree, runs: 2000, seed: 11 });
  app = await createTestApp({ from: null, raw: { sync: { bulk_flush_bytes: 16 * 1024, bulk_concurrency: 1, max_vanish_share: 0.5 } } });
  apps.push(app);
  for (const year of ['2016', '2017', '2018', '2019']) {
    await copyTree(path.join(tree, year), path.join(app.root, year));
  }
  configFile = path.join(app.root, '..', `${path.basename(app.root)}.json`);
  impatientConfigFile = path.join(app.root, '..', `${path.basename(app.root)}-impatient.json`);
  const config = { sources: app.config.sources, indices: app.config.indices, sync: app.config.sync, schedule: { lease_ttl: '6s' } };
  await writeFile(configFile, JSON.stringify(config));
  await writeFile(impatientConfigFile, JSON.stringify({ ...config, sync: { ...config.sync, bulk_retries: 0 }, elasticsearch: { request_timeout: '2s' } }));
  await runSync(app.ctx, { mode: 'full' });
  await runRollups(app.ctx);
}, 240_000);

afterAll(async () => {
  process.kill(-inject('esPid'), 'SIGCONT');
  for (const a of apps) {
    await a.cleanup();
  }
  await rm(tree, { recursive: true, force: true });
  await rm(configFile, { force: true });
  await rm(impatientConfigFile, { force: true });
});

describe('rollups/run after faults (real Elasticsearch)', () => {
  it('SIGKILL while the sync writes runs: the next sync converges', async () => {
    await changeTree(['2020', '2021'], '2016');
    const before = await runCount();

    const child = startSync();
    await until(async () => (await runCount()) >= before + 50);
    child.kill('SIGKILL');

    expect(await child.exit).toBe('SIGKILL');
    expect(await runCount()).toBeLessThan(before + 400);
    await normalSyncThenCompare();
  }, 300_000);

  it('SIGKILL while the sync writes rollups: the next sync converges', async () => {
    await changeTree(['2022', '2023'], '2017');
    const startedAt = new Date();

    const child = startSync();
    await until(async () => (await freshRollupDocs(startedAt)) > 0, 20);
    child.kill('SIGKILL');

    expect(await child.exit).toBe('SIGKILL');
    expect(await readWatermark(app.ctx.client, app.config.indices.rollups)).toBeLessThan(startedAt.getTime());
    await normalSyncThenCompare();
  }, 300_000);

  it('Elasticsearch paused mid-bulk: the failed sync still runs rollups, and the next sync converges', async () => {
    await changeTree(['2024', '2025'], '2018');
    const before = await runCount();

    const child = startSync(impatientConfigFile);
    await until(async () => (await runCount()) >= before + 50);
    process.kill(-inject('esPid'), 'SIGSTOP');
    try {
      await new Promise((r) => setTimeout(r, 15_000));
    } finally {
      process.kill(-inject('esPid'), 'SIGCONT');
    }

    // The sync fails (a timed-out write, or the report itself); whatever it wrote, the next sync's rollups pick up.
    expect(await child.exit, child.output()).toBe(1);
    await normalSyncThenCompare();
  }, 300_000);
});

// --- helpers ---

/** Adds the years of the generated tree to the synced root and removes one (its runs vanish). */
async function changeTree(add: string[], remove: string): Promise<void> {
  for (const year of add) {
    await copyTree(path.join(tree, year), path.join(app.root, year));
  }
  await rm(path.join(app.root, remove), { recursive: true, force: true });
  removedYears.add(remove);
}

async function normalSyncThenCompare(): Promise<void> {
  await new Promise((r) => setTimeout(r, 6500)); // the killed child's lease expires (a short TTL renews too rarely on a loaded machine)
  const child = startSync();
  expect(await child.exit, child.output()).toBe(0);
  await expectSameAsCleanSync(app, (runPath) => removedYears.has(runPath.split('/')[0] ?? ''));
}

function startSync(config = configFile): SyncChild {
  return startCliSync(config, inject('esUrl'));
}

async function runCount(): Promise<number> {
  return countRuns(app);
}

async function freshRollupDocs(since: Date): Promise<number> {
  await app.ctx.client.indices.refresh({ index: app.config.indices.rollups });
  return (await app.ctx.client.count({ index: app.config.indices.rollups, query: { range: { computed_at: { gte: since.toISOString() } } } })).count;
}
