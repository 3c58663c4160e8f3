import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { generateRuns } from '../../bench/generate.ts';
import { runSync } from '../../src/sync/run.ts';
import { VOLATILE_FIELDS } from '../../src/sync/doc.ts';
import { createTestApp, type TestApp } from './app-context.ts';

const apps: TestApp[] = [];
let tree = '';

afterAll(async () => {
  for (const app of apps) {
    await app.cleanup();
  }
  if (tree) {
    await rm(tree, { recursive: true, force: true });
  }
});

async function docsById(app: TestApp): Promise<Map<string, Record<string, unknown>>> {
  const client = app.ctx.client;
  await client.indices.refresh({ index: app.config.indices.runs });
  const out = new Map<string, Record<string, unknown>>();
  let after: Array<string | number> | undefined;
  for (;;) {
    const res = await client.search<Record<string, unknown>>({
      index: app.config.indices.runs,
      size: 1000,
      sort: [{ run_id: 'asc' }],
      ...(after ? { search_after: after } : {}),
    });
    for (const hit of res.hits.hits) {
      const doc = { ...hit._source };
      for (const field of VOLATILE_FIELDS) {
        delete doc[field];
      }
      out.set(hit._id as string, doc);
    }
    if (res.hits.hits.length < 1000) {
      return out;
    }
    after = res.hits.hits.at(-1)?.sort as Array<string | number>;
  }
}

describe('sync/run killed with SIGKILL mid-bulk (real Elasticsearch)', () => {
  it('re-run after the kill ends identical to an uninterrupted sync: no duplicates, no lost runs', async () => {
    tree = await mkdtemp(path.join(os.tmpdir(), 'lora-kill-'));
    await generateRuns({ root: tree, runs: 3000, seed: 7 });
    const killed = await createTestApp({ from: tree, raw: { sync: { bulk_flush_bytes: 64 * 1024, bulk_concurrency: 1 } } });
    const clean = await createTestApp({ from: tree });
    apps.push(killed, clean);
    killed.config.sources = [{ ...killed.config.sources[0], path: tree } as (typeof killed.config.sources)[number]];
    clean.config.sources = [{ ...clean.config.sources[0], path: tree } as (typeof clean.config.sources)[number]];
    const configFile = path.join(killed.root, '..', `${path.basename(killed.root)}.yaml`);
    await writeFile(configFile, JSON.stringify({ sources: killed.config.sources, indices: killed.config.indices, sync: killed.config.sync }));
    const repo = path.resolve(import.meta.dirname, '..', '..');

    const child = spawn(process.execPath, [path.join(repo, 'src/cli/main.ts'), 'sync', '--config', configFile, '--no-rollups', '--json'], {
      env: { ...process.env, LORA_CATALOG_ES_URL: inject('esUrl') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ? -1 : code)));
    let partial = 0;
    for (let i = 0; i < 600 && partial < 300; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const exists = await killed.ctx.client.indices.exists({ index: killed.config.indices.runs });
      if (exists) {
        await killed.ctx.client.indices.refresh({ index: killed.config.indices.runs });
        partial = (await killed.ctx.client.count({ index: killed.config.indices.runs })).count;
      }
    }
    child.kill('SIGKILL');
    expect(await exited, stderr).toBe(-1);
    expect(partial).toBeGreaterThanOrEqual(300);
    expect(partial).toBeLessThan(3000);

    const rerun = await runSync(killed.ctx, { mode: 'full' });
    const uninterrupted = await runSync(clean.ctx, { mode: 'full' });
    expect(uninterrupted.counts.new).toBe(3000);

    expect(rerun.status, JSON.stringify({ sources: rerun.sources, errors: rerun.errors })).toBe('ok');
    expect(rerun.counts.found).toBe(3000);
    expect(rerun.counts.new + rerun.counts.unchanged + rerun.counts.changed).toBe(3000);
    expect(rerun.counts.unchanged).toBeGreaterThan(0);
    const a = await docsById(killed);
    const b = await docsById(clean);
    expect(a.size).toBe(3000);
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [id, doc] of a) {
      expect(doc).toEqual(b.get(id));
    }
  }, 300_000);
});
