import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRuns } from '../../bench/generate.ts';
import { readEngineEnv } from '../../src/config/env.ts';
import { startElasticsearch, type StartElasticsearchOptions } from '../../src/engine/elasticsearch.ts';
import { enginePathsFromEnv } from '../../src/engine/paths.ts';
import { prefetchEngine } from '../../src/engine/prefetch.ts';
import { freePort, type RunningService } from '../../src/engine/process.ts';
import { createTestApp, type TestApp } from './app-context.ts';
import { copyTree, expectSameAsCleanSync, runCount, startSync, until } from './convergence.ts';

/**
 * Elasticsearch stopped and started again (same data path, same port) while a sync writes runs, then one
 * normal sync: the runs and rollup indices must equal an uninterrupted sync of the same tree into fresh
 * indices. The engine is this file's own: the shared one stays up for the other files (its pid is fixed
 * at setup), and a restart here cannot break them.
 */
/** Long enough to renew on a loaded machine, short enough that a lease the restart orphaned is gone soon. */
const LEASE_TTL = '10s';
const apps: TestApp[] = [];
const removedYears = new Set<string>();
let base = '';
let tree = '';
let app: TestApp;
let configFile = '';
let engineOpts: StartElasticsearchOptions;
let engine: RunningService | undefined;

beforeAll(async () => {
  const env = readEngineEnv();
  const install = await prefetchEngine(enginePathsFromEnv(env), env);
  base = await mkdtemp(path.join(os.tmpdir(), 'lora-es-restart-'));
  // Elasticsearch runs as nobody when we are root; it must be able to reach its dirs.
  await chmod(base, 0o755);
  engineOpts = {
    home: install.esHome,
    port: await freePort(),
    dataDir: path.join(base, 'data'),
    logsDir: path.join(base, 'logs'),
    env: env.childEnv,
    timeoutMs: 300_000,
  };
  engine = await startElasticsearch(engineOpts);

  tree = await mkdtemp(path.join(os.tmpdir(), 'lora-es-restart-tree-'));
  await generateRuns({ root: tree, runs: 1500, seed: 13 });
  app = await createTestApp({ from: null, esUrl: engine.url, raw: { sync: { bulk_flush_bytes: 16 * 1024, bulk_concurrency: 1, max_vanish_share: 0.5 } } });
  apps.push(app);
  for (const year of ['2016', '2017', '2018', '2019']) {
    await copyTree(path.join(tree, year), path.join(app.root, year));
  }
  configFile = path.join(app.root, '..', `${path.basename(app.root)}.json`);
  await writeFile(
    configFile,
    JSON.stringify({ sources: app.config.sources, indices: app.config.indices, sync: app.config.sync, schedule: { lease_ttl: LEASE_TTL } }),
  );
  const first = startSync(configFile, engine.url);
  expect(await first.exit, first.output()).toBe(0);
}, 480_000);

afterAll(async () => {
  for (const a of apps) {
    await a.cleanup();
  }
  await engine?.stop();
  await rm(tree, { recursive: true, force: true });
  await rm(configFile, { force: true });
  await rm(base, { recursive: true, force: true });
}, 120_000);

describe('sync with Elasticsearch restarted mid-sync (real Elasticsearch)', () => {
  it('the engine stopped and started again while runs are written: the next sync converges', async () => {
    const url = engineUrl();
    // Enough new runs that the engine goes down with many still to write, however fast the sync writes.
    for (const year of ['2020', '2021', '2022', '2023', '2024', '2025']) {
      await copyTree(path.join(tree, year), path.join(app.root, year));
    }
    await rm(path.join(app.root, '2016'), { recursive: true, force: true });
    removedYears.add('2016');
    const before = await runCount(app);

    const child = startSync(configFile, url);
    await until(async () => (await runCount(app)) >= before + 50);
    const atStop = await runCount(app);
    await engine?.stop();
    engine = undefined;
    // The engine stays down until the sync gives up: it leaves runs written and rollups not run, the
    // hardest case for the next sync (a sync that outlives a short restart finishes its own work).
    const exit = await child.exit;
    engine = await startElasticsearch(engineOpts);

    expect(engine.url).toBe(url);
    expect(exit, child.output()).toBe(1);
    // 900 runs were added: the engine went down with runs still to write.
    expect(atStop).toBeLessThan(before + 850);
    expect(await runCount(app)).toBeGreaterThanOrEqual(atStop);
    await new Promise((r) => setTimeout(r, 10_500)); // a lease the failed sync could not release expires
    const next = startSync(configFile, url);
    expect(await next.exit, next.output()).toBe(0);
    expect(next.status()).toBe('ok');

    await expectSameAsCleanSync(app, (runPath) => removedYears.has(runPath.split('/')[0] ?? ''), url);
  }, 600_000);
});

function engineUrl(): string {
  if (engine === undefined) {
    throw new Error('the engine is not running');
  }
  return engine.url;
}
