import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import type http from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { generateRuns } from '../../bench/generate.ts';
import { runRollups } from '../../src/rollups/run.ts';
import { runSync } from '../../src/sync/run.ts';
import { createTestApp, type TestApp } from './app-context.ts';
import { expectConverged, goneRunIds, startSync } from './convergence.ts';
import { s3Client, uniqueName } from './helpers.ts';
import { isList, pageSize, startFaultProxy, type CutAnswer, type FaultAnswer, type FaultProxy } from './s3-fault-proxy.ts';

/**
 * An S3 source whose listing fails mid-way (5xx, a page that promises more and then fails, a page whose
 * body ends early), each time while the bucket changed (a year of runs added, one removed): the faulted
 * sync marks nothing vanished that still exists, and at most one more sync brings the runs and rollup
 * indices to what an uninterrupted sync of the same bucket writes into fresh indices.
 */
const ROOT = 'runs';
/** Keys per list page: a root of ~1,100 keys is listed in ~11 pages, so a fault can hit the middle. */
const PAGE_KEYS = 100;
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

type PageFault = (attempt: number) => FaultAnswer | CutAnswer | null;

const s3 = s3Client();
const bucket = uniqueName('faults-s3');
const apps: TestApp[] = [];
const removedYears = new Set<string>();
let tree = '';
let app: TestApp;
let proxy: FaultProxy;
let configFile = '';
/** Faults of the crawl's root listing by page number (1-based), and how often each page was asked for. */
let pageFaults: Record<number, PageFault> = {};
const pageOfToken = new Map<string, number>();
const attempts = new Map<number, number>();

beforeAll(async () => {
  tree = await mkdtemp(path.join(os.tmpdir(), 'lora-s3-faults-'));
  await generateRuns({ root: tree, runs: 400, seed: 23 });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const year of ['2019', '2020', '2021', '2022', '2023', '2024']) {
    await uploadYear(year);
  }
  proxy = await startFaultProxy(inject('s3Endpoint'), rootListingFault, { rewriteUrl: pageSize(PAGE_KEYS) });
  app = await createTestApp({ from: null, raw: { sources: [s3Source(proxy.url)], sync: { max_vanish_share: 0.5 } } });
  apps.push(app);
  configFile = path.join(app.root, '..', `${path.basename(app.root)}.json`);
  await writeFile(configFile, JSON.stringify({ sources: app.config.sources, indices: app.config.indices, sync: app.config.sync }));
  vi.stubEnv('AWS_ACCESS_KEY_ID', CREDENTIALS.AWS_ACCESS_KEY_ID);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', CREDENTIALS.AWS_SECRET_ACCESS_KEY);
  const first = sync();
  expect(await first.exit, first.output()).toBe(0);
}, 240_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await proxy.close();
  for (const a of apps) {
    await a.cleanup();
  }
  await deleteKeys(`${ROOT}/`);
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  s3.destroy();
  await rm(tree, { recursive: true, force: true });
  await rm(configFile, { force: true });
});

describe('S3 listing faults mid-sync (real S3Mock and Elasticsearch)', () => {
  it('5xx answers and a dropped connection on list pages are retried: the faulted sync itself ends identical', async () => {
    await changeBucket('2018', '2024');
    const once =
      (answer: FaultAnswer | CutAnswer): PageFault =>
      (attempt) =>
        attempt === 1 ? answer : null;
    setFaults({ 3: once({ status: 503, code: 'SlowDown' }), 5: once({ status: 500, code: 'InternalError' }), 7: once({ cut: 0.5, drop: true }) });

    const child = sync();

    expect(await child.exit, child.output()).toBe(0);
    expect([...attempts].filter(([, n]) => n > 1).map(([page]) => page)).toEqual([3, 5, 7]);
    expect(Math.max(...attempts.keys())).toBeGreaterThan(7);
    await compareWithUninterrupted();
  }, 300_000);

  it('a page that promises more (IsTruncated) and then the next page fails on every attempt: nothing vanishes, the next sync converges', async () => {
    await changeBucket('2017', '2023');
    const goneBefore = await goneRunIds(app);
    setFaults({ 5: () => ({ status: 500, code: 'InternalError' }) });

    const child = sync();

    expect(await child.exit, child.output()).toBe(1);
    expect(Math.max(...attempts.keys())).toBe(5);
    expect(attempts.get(5)).toBeGreaterThan(1);
    expect(await activeRunsUnder('2017')).toBeGreaterThan(0);
    // The removed year is not listed either way; with the listing cut short nothing may be marked.
    expect((await goneRunIds(app)).sort()).toEqual(goneBefore.sort());
    await normalSyncThenCompare();
  }, 300_000);

  it('a page whose body ends early: the listing fails, nothing vanishes, the next sync converges', async () => {
    await changeBucket('2016', '2022');
    const goneBefore = await goneRunIds(app);
    setFaults({ 4: (attempt) => (attempt === 1 ? { cut: 0.6 } : null) });

    const child = sync();

    expect(await child.exit, child.output()).toBe(1);
    expect(Math.max(...attempts.keys())).toBe(4);
    expect(await activeRunsUnder('2016')).toBeGreaterThan(0);
    expect((await goneRunIds(app)).sort()).toEqual(goneBefore.sort());
    await normalSyncThenCompare();
  }, 300_000);
});

// --- helpers ---

function s3Source(endpoint: string): Record<string, unknown> {
  return { name: 'bucket', kind: 's3', bucket, prefix: ROOT, endpoint, force_path_style: true };
}

function sync(): ReturnType<typeof startSync> {
  return startSync(configFile, inject('esUrl'), CREDENTIALS);
}

function setFaults(faults: Record<number, PageFault>): void {
  pageFaults = faults;
  pageOfToken.clear();
  attempts.clear();
}

/** Only the crawl's listing of the whole root counts pages (the parsers list single run folders). */
function rootListingFault(_n: number, req: http.IncomingMessage): FaultAnswer | CutAnswer | null {
  const url = new URL(req.url ?? '', 'http://proxy');
  if (!isList(req) || url.searchParams.get('prefix') !== `${ROOT}/`) {
    return null;
  }
  const token = url.searchParams.get('continuation-token') ?? '';
  const page = pageOfToken.get(token) ?? pageOfToken.size + 1;
  pageOfToken.set(token, page);
  const attempt = (attempts.get(page) ?? 0) + 1;
  attempts.set(page, attempt);
  return pageFaults[page]?.(attempt) ?? null;
}

/**
 * Adds a year of the generated runs to the bucket and removes one (its runs vanish once a listing is complete).
 * The added year comes first in the listing: a faulted sync writes its runs before the fault cuts the listing off.
 */
async function changeBucket(add: string, remove: string): Promise<void> {
  await uploadYear(add);
  await deleteKeys(`${ROOT}/${remove}/`);
  removedYears.add(remove);
}

/** Runs of the year written so far: the faulted sync wrote the part of the listing it got. */
async function activeRunsUnder(year: string): Promise<number> {
  await app.ctx.client.indices.refresh({ index: app.config.indices.runs });
  const query = { bool: { filter: [{ prefix: { 'source.path': `${year}/` } }, { term: { state: 'active' } }] } };
  return (await app.ctx.client.count({ index: app.config.indices.runs, query })).count;
}

async function normalSyncThenCompare(): Promise<void> {
  setFaults({});
  const child = sync();
  expect(await child.exit, child.output()).toBe(0);
  expect(child.status()).toBe('ok');
  await compareWithUninterrupted();
}

/** The same bucket content synced without faults into fresh indices. */
async function compareWithUninterrupted(): Promise<void> {
  const clean = await createTestApp({ from: null, raw: { sources: [s3Source(inject('s3Endpoint'))] } });
  apps.push(clean);
  await runSync(clean.ctx, { mode: 'full' });
  await runRollups(clean.ctx);
  await expectConverged(app, clean, (runPath) => removedYears.has(runPath.split('/')[0] ?? ''));
  await clean.cleanup();
  apps.splice(apps.indexOf(clean), 1);
}

async function uploadYear(year: string): Promise<void> {
  const files = (await readdir(path.join(tree, year), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  const keys = files.map((e) => path.relative(tree, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
  for (let i = 0; i < keys.length; i += 32) {
    await Promise.all(
      keys
        .slice(i, i + 32)
        .map(async (key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${ROOT}/${key}`, Body: await readFile(path.join(tree, key)) }))),
    );
  }
}

async function deleteKeys(prefix: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    const objects = (page.Contents ?? []).map((o) => ({ Key: o.Key }));
    if (objects.length > 0) {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
    }
    token = page.NextContinuationToken;
  } while (token);
}
