import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { scanPages } from '../../src/es/pit.ts';
import { VOLATILE_FIELDS } from '../../src/sync/doc.ts';
import { readdir } from 'node:fs/promises';
import { runRollups } from '../../src/rollups/run.ts';
import { runSync } from '../../src/sync/run.ts';
import { createTestApp, type TestApp } from './app-context.ts';

/**
 * Shared by the fault-injection files: a CLI sync in a child process (so it can be killed), and the
 * comparison of a faulted catalogue with an uninterrupted sync of the same content into fresh indices.
 */
const REPO = path.resolve(import.meta.dirname, '..', '..');

export interface SyncChild {
  kill(signal: NodeJS.Signals): void;
  exit: Promise<number | NodeJS.Signals>;
  output(): string;
  /** The sync report's status (`ok`, `failed`, `skipped`…) from the JSON it printed. */
  status(): string | undefined;
}

/** `lora-catalog sync --json` with this config against the engine at `esUrl`. */
export function startSync(configFile: string, esUrl: string, env: Record<string, string> = {}): SyncChild {
  const child = spawn(process.execPath, [path.join(REPO, 'src/cli/main.ts'), 'sync', '--config', configFile, '--json'], {
    env: { ...process.env, ...env, LORA_CATALOG_ES_URL: esUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exit = new Promise<number | NodeJS.Signals>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code ?? -1)));
  // The report without its list of touched buckets (thousands of lines), then the end of the log.
  const output = () => `${out.replace(/"touched": \[[^\]]*\]/, '"touched": […]').slice(0, 6000)}\n${err.slice(-3000)}`;
  const status = () => {
    try {
      return (JSON.parse(out) as { report?: { status?: string } }).report?.status;
    } catch {
      return undefined;
    }
  };
  return { kill: (signal) => child.kill(signal), exit, output, status };
}

/** `cp -a`: file and folder times too (some formats date a run by its files; fs.cp leaves folder times). */
export async function copyTree(from: string, to: string): Promise<void> {
  await promisify(execFile)('cp', ['-a', from, to]);
}

export async function until(check: () => Promise<boolean>, everyMs = 100): Promise<void> {
  for (let i = 0; i < 120_000 / everyMs; i++) {
    if (await check()) {
      return;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error('condition not reached in 120 s');
}

export async function runCount(t: TestApp): Promise<number> {
  await t.ctx.client.indices.refresh({ index: t.config.indices.runs });
  return (await t.ctx.client.count({ index: t.config.indices.runs })).count;
}

/**
 * The faulted catalogue `got` equals the uninterrupted one `want` (fresh indices, same content): the same
 * rollup docs, and the same active runs, field for field. Its other runs are the ones removed from the
 * source during the test, all marked vanished; `removed` tells whether a run path was removed.
 */
export async function expectConverged(got: TestApp, want: TestApp, removed: (runPath: string) => boolean): Promise<void> {
  const gotRollups = await docsById(got, got.config.indices.rollups, ['computed_at', 'rollup_stamp']);
  const wantRollups = await docsById(want, want.config.indices.rollups, ['computed_at', 'rollup_stamp']);
  expect([...gotRollups.keys()].sort()).toEqual([...wantRollups.keys()].sort());
  for (const [id, doc] of wantRollups) {
    expect(gotRollups.get(id), id).toEqual(doc);
  }

  const gotRuns = await docsById(got, got.config.indices.runs, VOLATILE_FIELDS);
  const wantRuns = await docsById(want, want.config.indices.runs, VOLATILE_FIELDS);
  const active = new Map([...gotRuns].filter(([, doc]) => doc['state'] === 'active'));
  const gone = [...gotRuns.values()].filter((doc) => doc['state'] !== 'active');
  expect([...active.keys()].sort()).toEqual([...wantRuns.keys()].sort());
  for (const [id, doc] of wantRuns) {
    expect(active.get(id), id).toEqual(doc);
  }
  const wronglyGone = gone.filter((doc) => !removed((doc['source'] as { path: string }).path));
  expect(wronglyGone.map((doc) => doc['run_id'])).toEqual([]);
  expect(gone.every((doc) => doc['state'] === 'vanished')).toBe(true);
}

/**
 * Syncs a copy of `got`'s tree (file times too: some formats date a run by its files) into fresh indices of
 * the engine at `esUrl` without any fault, then expects `got` to have converged to that (`expectConverged`).
 */
export async function expectSameAsCleanSync(got: TestApp, removed: (runPath: string) => boolean, esUrl?: string): Promise<void> {
  const clean = await createTestApp({ from: null, ...(esUrl ? { esUrl } : {}), raw: { sync: { max_vanish_share: 0.5 } } });
  try {
    await copyTree(`${got.root}/.`, clean.root);
    expect((await readdir(clean.root)).sort()).toEqual((await readdir(got.root)).sort());
    await runSync(clean.ctx, { mode: 'full' });
    await runRollups(clean.ctx);
    await expectConverged(got, clean, removed);
  } finally {
    await clean.cleanup();
  }
}

/** The run ids marked vanished or missing so far. */
export async function goneRunIds(t: TestApp): Promise<string[]> {
  const runs = await docsById(t, t.config.indices.runs, []);
  return [...runs.values()].filter((doc) => doc['state'] !== 'active' || doc['missing_since'] !== null).map((doc) => doc['run_id'] as string);
}

// --- internal ---

/** Every doc of the index by id, without the fields that say when it was written, the app's root path as `<root>`. */
async function docsById(t: TestApp, index: string, volatile: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
  await t.ctx.client.indices.refresh({ index });
  const out = new Map<string, Record<string, unknown>>();
  for await (const hits of scanPages<Record<string, unknown>>(t.ctx.client, { index })) {
    for (const hit of hits) {
      const doc = JSON.parse(JSON.stringify(hit._source ?? {}).replaceAll(JSON.stringify(t.root).slice(1, -1), '<root>')) as Record<string, unknown>;
      for (const field of volatile) {
        delete doc[field];
      }
      out.set(hit._id as string, doc);
    }
  }
  return out;
}
