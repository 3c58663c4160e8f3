import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runJobsCommand } from '../../src/cli/jobs.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { AppContext } from '../../src/context.ts';
import { flushOutbox } from '../../src/sync/hook/outbox.ts';
import { reportRun } from '../../src/sync/hook/report.ts';
import { silentLogger } from '../../src/log.ts';
import { runSync } from '../../src/sync/run.ts';
import { createTestApp, EXAMPLES, type TestApp } from './app-context.ts';
import { deleteIndexQuietly, esClient, uniqueName } from './helpers.ts';

const client = esClient();
const RUN = '2025-04-11-ink-wash-landscape-r16';
const RUN_DIR = path.join(EXAMPLES, RUN);
/** These tests are about where a run lands, not speed: a deadline a loaded test machine cannot miss. */
const SLOW_OK = 90_000;
const CHILD = path.resolve(import.meta.dirname, '../fixtures/jobs/report-child.ts');
let base: string;
let tmp: string;
let app: TestApp | undefined;

beforeEach(async () => {
  base = uniqueName('it-hook');
  tmp = await mkdtemp(path.join(os.tmpdir(), 'report-hook-'));
});

afterEach(async () => {
  await deleteIndexQuietly(client, `${base}*`);
  await rm(tmp, { recursive: true, force: true });
  await app?.cleanup();
  app = undefined;
});

describe('report hook: deadline', () => {
  it('ends the command and the process by the deadline when Elasticsearch accepts and never answers, and spools', async () => {
    const hung = await hungServer();
    const outbox = path.join(tmp, 'outbox');
    const configFile = path.join(tmp, 'lora-catalog.yaml');
    await writeFile(configFile, `elasticsearch:\n  url: ${hung.url}\noutbox_dir: ${outbox}\nindices:\n  runs: ${base}-runs\n  leases: ${base}-leases\n`);
    const t0 = Date.now();

    const code = await runJobsCommand('report', [RUN_DIR, '--deadline', '2s'], {
      io: { stdout: () => {}, stderr: () => {} },
      config: parseConfig({ elasticsearch: { url: hung.url }, indices: { runs: `${base}-runs` }, outbox_dir: outbox }),
    });
    const inProcess = Date.now() - t0;
    const child = await runChild([configFile, RUN_DIR, '--deadline', '2s']);
    await hung.close();

    expect(code).toBe(0);
    // Within the deadline itself (before the fix: 2.15 s here, 3.1 s measured in the issue).
    expect(inProcess).toBeLessThan(2000);
    expect(child.exitAfterMs).toBeLessThan(2000);
    expect(await readdir(outbox)).toHaveLength(1);
  });

  it('records a run with a 200 MB log within the deadline (the large log is skipped with a warning when its read runs out of time)', async () => {
    const dir = path.join(tmp, 'big-log-run');
    await cp(RUN_DIR, dir, { recursive: true });
    await writeBigLog(path.join(dir, 'logs', 'train.log'), 200 * 1024 * 1024);
    const ctx = ctxFor({ sources: [] });
    const outbox = path.join(tmp, 'outbox');
    const down = ctxFor({ elasticsearchDown: true });

    const spooled = await reportRun(down, { runDir: dir, deadlineMs: 4000, outboxDir: outbox });
    const up = await reportRun(ctx, { runDir: dir, deadlineMs: 4000, outboxDir: outbox });

    expect(spooled).toMatchObject({ outcome: 'spooled' });
    expect(spooled.ms).toBeLessThan(4300);
    expect(await readdir(outbox)).toHaveLength(1);
    // Indexed when this engine answers in the time left, else spooled: never nothing, never late.
    expect(up.outcome).not.toBe('skipped');
    expect(up.ms).toBeLessThan(4300);
  }, 60_000);
});

describe('report hook: where a run belongs', () => {
  it('records a run directory directly under / (ad-hoc source rooted at the run dir)', async () => {
    const dir = `/lora-report-it-${randomBytes(4).toString('hex')}`;
    await cp(RUN_DIR, dir, { recursive: true });
    try {
      const result = await reportRun(ctxFor({ sources: [] }), { runDir: dir, deadlineMs: SLOW_OK });
      const doc = await client.get<{ source: { root: string } }>({ index: `${base}-runs`, id: result.runId ?? '' });

      expect(result).toMatchObject({ outcome: 'indexed', source: `report:${dir}` });
      expect(result.warnings.join('\n')).toContain('outside every configured source');
      expect(doc._source?.source.root).toBe(`report:${dir}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('goes through source membership and the identity guard: same id and first_seen_at as the sync, a copy gets its own id, and vanishes with its source', async () => {
    app = await createTestApp();
    const t1 = new Date('2025-09-01T00:00:00Z');
    app.setNow(t1);
    await runSync(app.ctx, { mode: 'full' });
    const synced = await app.ctx.client.search<{ run_id: string }>({ index: app.config.indices.runs, query: { term: { 'source.path': RUN } } });
    const originalId = synced.hits.hits[0]?._source?.run_id ?? '';
    app.setNow(new Date('2025-09-02T00:00:00Z'));
    await cp(path.join(app.root, RUN), path.join(app.root, 'copy-of-ink'), { recursive: true });

    const same = await reportRun(app.ctx, { runDir: path.join(app.root, RUN), deadlineMs: SLOW_OK });
    const copy = await reportRun(app.ctx, { runDir: path.join(app.root, 'copy-of-ink'), deadlineMs: SLOW_OK });
    const original = await app.ctx.client.get<{ first_seen_at: string; source: { path: string } }>({ index: app.config.indices.runs, id: originalId });
    const copyDoc = await app.ctx.client.get<{ copy_of: string; source: { root: string; path: string } }>({
      index: app.config.indices.runs,
      id: copy.runId ?? '',
    });
    await rm(path.join(app.root, 'copy-of-ink'), { recursive: true });
    app.setNow(new Date('2025-09-10T00:00:00Z'));
    await runSync(app.ctx, { mode: 'full' });
    const gone = await app.ctx.client.get<{ state: string }>({ index: app.config.indices.runs, id: copy.runId ?? '' });

    expect(same).toMatchObject({ outcome: 'indexed', runId: originalId, source: 'local' });
    expect(original._source).toMatchObject({ first_seen_at: t1.toISOString(), source: { path: RUN } });
    expect(copy.outcome).toBe('indexed');
    expect(copy.runId).not.toBe(originalId);
    expect(copyDoc._source).toMatchObject({ copy_of: originalId, source: { root: 'local', path: 'copy-of-ink' } });
    expect(gone._source?.state).toBe('vanished');
  }, 240_000);
});

describe('report hook: outbox', () => {
  it('a spooled report gets the identity a sync would give it when flushed: first_seen_at kept, a copy never overwrites its original', async () => {
    app = await createTestApp();
    const t1 = new Date('2025-09-01T00:00:00Z');
    app.setNow(t1);
    await runSync(app.ctx, { mode: 'full' });
    const synced = await app.ctx.client.search<{ run_id: string }>({ index: app.config.indices.runs, query: { term: { 'source.path': RUN } } });
    const originalId = synced.hits.hits[0]?._source?.run_id ?? '';
    app.setNow(new Date('2025-09-02T00:00:00Z'));
    await cp(path.join(app.root, RUN), path.join(app.root, 'copy-of-ink'), { recursive: true });
    const outbox = path.join(tmp, 'outbox');
    const down = { ...app.ctx, client: esClientOn('http://127.0.0.1:9') };

    const same = await reportRun(down, { runDir: path.join(app.root, RUN), deadlineMs: SLOW_OK, outboxDir: outbox });
    const copy = await reportRun(down, { runDir: path.join(app.root, 'copy-of-ink'), deadlineMs: SLOW_OK, outboxDir: outbox });
    const flush = await flushOutbox(app.ctx, { dir: outbox });
    await app.ctx.client.indices.refresh({ index: app.config.indices.runs });
    const original = await app.ctx.client.get<{ first_seen_at: string; source: { path: string } }>({ index: app.config.indices.runs, id: originalId });
    const copies = await app.ctx.client.search<{ run_id: string; copy_of: string | null }>({
      index: app.config.indices.runs,
      query: { term: { 'source.path': 'copy-of-ink' } },
    });

    expect([same.outcome, copy.outcome]).toEqual(['spooled', 'spooled']);
    expect(flush).toMatchObject({ flushed: 2, failed: 0 });
    expect(original._source).toMatchObject({ first_seen_at: t1.toISOString(), source: { path: RUN } });
    expect(copies.hits.hits).toHaveLength(1);
    expect(copies.hits.hits[0]?._source?.run_id).not.toBe(originalId);
  }, 240_000);
});

// --- internal ---

function ctxFor(opts: { sources?: unknown[]; elasticsearchDown?: boolean }): AppContext {
  const config = parseConfig({
    sources: opts.sources ?? [],
    indices: { runs: `${base}-runs`, rollups: `${base}-rollups`, sync_runs: `${base}-syncs`, leases: `${base}-leases` },
    outbox_dir: path.join(tmp, 'outbox'),
  });
  const c = opts.elasticsearchDown ? esClientOn('http://127.0.0.1:9') : client;
  return { config, client: c, log: silentLogger, now: () => new Date(), signal: new AbortController().signal };
}

function esClientOn(url: string): Client {
  return new Client({ node: url, maxRetries: 0 });
}

async function writeBigLog(file: string, bytes: number): Promise<void> {
  const handle = await open(file, 'w');
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i += 1) {
    lines.push(`[2025-04-11 09:01:00] epoch ${1 + (i % 8)}/8 step ${i + 1} loss 0.${String(2000 - (i % 1000)).padStart(4, '0')} lr 2.0e-04`);
  }
  const chunk = Buffer.from(`${lines.join('\n')}\n`);
  for (let written = 0; written < bytes; written += chunk.length) {
    await handle.write(chunk);
  }
  await handle.close();
}

async function hungServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const s of sockets) {
        s.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function runChild(args: string[]): Promise<{ code: number | null; exitAfterMs: number }> {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const ms = /exit-after-ms (\d+)/.exec(out)?.[1];
  return { code, exitAfterMs: ms === undefined ? Number.POSITIVE_INFINITY : Number(ms) };
}
