import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runJobsCommand } from '../../src/cli/jobs.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { AppContext } from '../../src/context.ts';
import { INDEX_SETTINGS, runsMappings } from '../../src/es/mappings.ts';
import { flushOutbox, spool } from '../../src/sync/hook/outbox.ts';
import { reportRun } from '../../src/sync/hook/report.ts';
import { silentLogger } from '../../src/log.ts';
import { deleteIndexQuietly, esClient, uniqueName } from './helpers.ts';

const client = esClient();
const REPO = path.resolve(import.meta.dirname, '../..');
const RUN_DIR = path.join(REPO, 'examples/runs/2025-04-11-ink-wash-landscape-r16');
/** Tests about where a run goes, not speed: a deadline a loaded test machine cannot miss. */
const SLOW_OK = 90_000;
const CHILD = path.join(REPO, 'test/fixtures/jobs/report-child.ts');
let runs: string;
let outbox: string;
let tmp: string;

beforeEach(async () => {
  runs = uniqueName('it-report-runs');
  tmp = await mkdtemp(path.join(os.tmpdir(), 'report-it-'));
  outbox = path.join(tmp, 'outbox');
});

afterEach(async () => {
  await deleteIndexQuietly(client, `${runs}*`);
  await rm(tmp, { recursive: true, force: true });
});

describe('src/sync/hook/report + src/sync/hook/outbox', () => {
  it('spools to the outbox and exits 0 quickly when Elasticsearch is down, then flush indexes it', async () => {
    const down = await closedPortUrl();
    const lines: string[] = [];
    const deadClient = new Client({ node: down });
    const t0 = Date.now();

    const code = await runJobsCommand('report', [RUN_DIR], {
      io: { stdout: (t) => lines.push(t), stderr: (t) => lines.push(t) },
      config: parseConfig({ elasticsearch: { url: down }, indices: { runs }, outbox_dir: outbox }),
    });
    const elapsed = Date.now() - t0;
    const spooled = await readdir(outbox);
    // The file is named after the run's location; the run's id is in the document.
    const spooledId = (JSON.parse(await readFile(path.join(outbox, spooled[0] ?? ''), 'utf8')) as { doc: { run_id: string } }).doc.run_id;
    await deadClient.close();
    await createRuns();
    const flush = await flushOutbox(ctxFor(client), { dir: outbox });
    const left = await readdir(outbox);
    const id = spooledId;
    const doc = await client.get<{ run_id: string; state: string }>({ index: runs, id });

    expect(code).toBe(0);
    expect(elapsed).toBeLessThan(3000);
    expect(lines.some((l) => l.startsWith('warning:'))).toBe(true);
    expect(spooled).toEqual([expect.stringMatching(/^[0-9a-f-]{36}\.json$/)]);
    expect(flush).toMatchObject({ flushed: 1, failed: 0, corrupt: 0 });
    expect(left).toEqual([]);
    expect(doc._source).toMatchObject({ run_id: id, state: 'active' });
  });

  it('exits 0 within seconds as a child process when Elasticsearch is down', async () => {
    const config = path.join(tmp, 'lora-catalog.yaml');
    await writeFile(config, `elasticsearch:\n  url: ${await closedPortUrl()}\noutbox_dir: ${outbox}\nindices:\n  runs: ${runs}\n`);
    const t0 = Date.now();

    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [CHILD, config, RUN_DIR], { stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', resolve);
    });

    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await readdir(outbox)).toHaveLength(1);
  });

  it('indexes right away when Elasticsearch is up and the runs index exists', async () => {
    await createRuns();

    const result = await reportRun(ctxFor(client), { runDir: RUN_DIR, outboxDir: outbox, deadlineMs: SLOW_OK });
    const doc = await client.get({ index: runs, id: result.runId ?? '' });

    expect(result).toMatchObject({ outcome: 'indexed', file: null });
    expect(doc.found).toBe(true);
  });

  it('creates a missing runs index with its strict mapping (as a sync does), never a dynamic one', async () => {
    const result = await reportRun(ctxFor(client), { runDir: RUN_DIR, outboxDir: outbox, deadlineMs: SLOW_OK });
    const mapping = await client.indices.getMapping({ index: runs });

    expect(result.outcome).toBe('indexed');
    expect(Object.values(mapping)[0]?.mappings.dynamic).toBe('strict');
  });

  it('keeps a spooled doc whose bulk item fails, and flushes the good ones', async () => {
    await createRuns();
    await spool(outbox, { version: 1, index: runs, id: 'good', doc: { run_id: 'good' }, spooled_at: new Date().toISOString() });
    await spool(outbox, { version: 1, index: runs, id: 'bad', doc: { no_such_field: 1 }, spooled_at: new Date().toISOString() });

    const flush = await flushOutbox(ctxFor(client), { dir: outbox });
    const left = await readdir(outbox);

    expect(flush).toMatchObject({ flushed: 1, failed: 1 });
    expect(left).toEqual(['bad.json']);
  });

  it('leaves spooled files in place while their index does not exist yet', async () => {
    await spool(outbox, { version: 1, index: runs, id: 'early', doc: { run_id: 'early' }, spooled_at: new Date().toISOString() });

    const flush = await flushOutbox(ctxFor(client), { dir: outbox });

    expect(flush).toMatchObject({ flushed: 0, failed: 1 });
    expect(await readdir(outbox)).toEqual(['early.json']);
    expect(await client.indices.exists({ index: runs })).toBe(false);
  });

  it('leaves every file in place when Elasticsearch is down during a flush', async () => {
    const deadClient = new Client({ node: await closedPortUrl(), maxRetries: 0 });
    await spool(outbox, { version: 1, index: runs, id: 'a', doc: { run_id: 'a' }, spooled_at: new Date().toISOString() });

    const error = await flushOutbox(ctxFor(deadClient), { dir: outbox }).catch((err: unknown) => err);
    await deadClient.close();

    expect(error).toMatchObject({ code: 'es-unreachable' });
    expect(await readdir(outbox)).toEqual(['a.json']);
  });
});

// --- internal ---

function indicesFor(name: string): Record<string, string> {
  return { runs: name, rollups: `${name}-rollups`, sync_runs: `${name}-syncs`, leases: `${name}-leases` };
}

function ctxFor(c: Client): AppContext {
  return {
    config: parseConfig({ indices: indicesFor(runs), outbox_dir: outbox }),
    client: c,
    log: silentLogger,
    now: () => new Date(),
    signal: new AbortController().signal,
  };
}

async function createRuns(): Promise<void> {
  await client.indices.create({ index: runs, settings: INDEX_SETTINGS, mappings: runsMappings({ cjk: false, ik: false }) });
}

/** A loopback URL nothing listens on: a port we bound and closed again. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
