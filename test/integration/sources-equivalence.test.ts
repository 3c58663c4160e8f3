import { cp, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { FsSourceConfig, S3SourceConfig } from '../../src/config/schema.ts';
import { discoverRuns } from '../../src/sync/discover.ts';
import { adapters } from '../../src/formats/index.ts';
import { parseRun } from '../../src/formats/parse-run.ts';
import type { RootInfo } from '../../src/sources/types.ts';
import type { RunRecord } from '../../src/record/schema.ts';
import { createDriver, rootInfo } from '../../src/sources/index.ts';
import type { SourceDriver } from '../../src/sources/types.ts';
import { s3Client, uniqueName } from './helpers.ts';

const LAYOUTS = fileURLToPath(new URL('../fixtures/layouts/', import.meta.url));

/** Both roots get this name: location-based run ids hash the root name, so equal names must give equal ids. */
const ROOT_NAME = 'corpus';

/** Fixed clock: "running" is decided from mtimes against it, and both sides must decide alike. */
const NOW = new Date('2030-01-01T00:00:00Z');

/** Runs written by the test itself, so the corpus is never empty and covers tricky directory names. */
const INLINE: Record<string, string> = {
  'inline/a-b/run/config.yaml': 'base_model: sd15\nlora_rank: 8\ntrain_data_dir: /data/a-b\n',
  'inline/a-b/run/train.log': 'epoch 1 step 10 loss 0.5\nepoch 2 step 20 loss 0.25\ntraining complete\n',
  'inline/a/run/config.yaml': 'base_model: sdxl\nlora_rank: 16\nlora_alpha: 8\n',
  'inline/a/run/train.log': 'epoch 1 step 5 loss 0.9\n',
  'inline/é 日本/😀-run/config.yaml': 'base_model: flux\nlora_rank: 4\nrun_id: 0b6a3f8e-2c1d-4e5f-9a7b-1c2d3e4f5a6b\n',
  'inline/é 日本/😀-run/train.log': 'Traceback (most recent call last):\nRuntimeError: CUDA out of memory\n',
  'inline/broken/config.yaml': 'base_model: [unclosed\nlora_rank: 8\n',
  'inline/broken/train.log': 'loss 1.0\n',
};

const s3 = s3Client();
const bucket = uniqueName('equivalence');
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'lora-catalog-equiv-'));
  await cp(LAYOUTS, path.join(dir, 'layouts'), { recursive: true });
  for (const [key, text] of Object.entries(INLINE)) {
    await mkdir(path.dirname(path.join(dir, key)), { recursive: true });
    await writeFile(path.join(dir, key), text);
  }
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const keys = await filesUnder(dir);
  await Promise.all(
    keys.map(async (key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${ROOT_NAME}/${key}`, Body: await readFile(path.join(dir, key)) }))),
  );
  await alignMtimes(dir);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await emptyBucket();
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  s3.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('sources: fs and s3 equivalence', () => {
  it('discovers and parses the same runs into the same records', async () => {
    const fsConfig = FsSourceConfig.parse({ name: ROOT_NAME, kind: 'fs', path: dir });
    const s3Config = S3SourceConfig.parse({
      name: ROOT_NAME,
      kind: 's3',
      bucket,
      prefix: `${ROOT_NAME}/`,
      endpoint: inject('s3Endpoint'),
      force_path_style: true,
    });

    const fromFs = await crawl(createDriver(fsConfig), rootInfo(fsConfig));
    const fromS3 = await crawl(createDriver(s3Config), rootInfo(s3Config));

    expect(fromS3.warnings).toEqual(fromFs.warnings);
    expect(fromS3.records.map((r) => r.source.path)).toEqual(fromFs.records.map((r) => r.source.path));
    expect(fromS3.records.map(comparable)).toEqual(fromFs.records.map(comparable));
    expect(fromS3.records.map((r) => r.source.uri)).toEqual(fromFs.records.map((r) => r.source.uri.replace(dir, `s3://${bucket}/${ROOT_NAME}`)));
    expect(new Set(fromS3.records.map((r) => r.source.kind))).toEqual(new Set(['s3']));
  });

  it('covers every identity basis, parse errors and the inline runs', async () => {
    const config = S3SourceConfig.parse({ name: ROOT_NAME, kind: 's3', bucket, prefix: ROOT_NAME, endpoint: inject('s3Endpoint'), force_path_style: true });

    const { records } = await crawl(createDriver(config), rootInfo(config));

    const paths = records.map((r) => r.source.path);
    expect(paths).toEqual(expect.arrayContaining(['inline/a-b/run', 'inline/a/run', 'inline/é 日本/😀-run', 'inline/broken']));
    expect(paths.indexOf('inline/a-b/run')).toBeLessThan(paths.indexOf('inline/a/run'));
    expect([...new Set(records.map((r) => r.run_id_basis))]).toEqual(expect.arrayContaining(['explicit', 'location']));
    expect(records.find((r) => r.source.path === 'inline/é 日本/😀-run')).toMatchObject({
      run_id: '0b6a3f8e-2c1d-4e5f-9a7b-1c2d3e4f5a6b',
      run_id_basis: 'explicit',
    });
    expect(records.find((r) => r.source.path === 'inline/a/run')).toMatchObject({ run_id_basis: 'location' });
    expect(records.find((r) => r.source.path === 'inline/broken')).toMatchObject({ status: 'parse_error' });
    expect(records.length).toBeGreaterThan(Object.keys(INLINE).length / 2);
  });
});

// --- internal ---

interface Crawl {
  records: RunRecord[];
  warnings: string[];
}

async function crawl(driver: SourceDriver, root: RootInfo): Promise<Crawl> {
  const records: RunRecord[] = [];
  const warnings: string[] = [];
  for await (const item of discoverRuns(driver, '', adapters)) {
    if (item.kind === 'warning') {
      warnings.push(`${item.code}:${item.key}`);
      continue;
    }
    records.push(await parseRun(item, { driver, root, now: NOW }));
  }
  await driver.dispose?.();
  return { records, warnings };
}

/** Everything but what legitimately differs: where the root is (kind, uri) and the fingerprint (mtime vs ETag). */
function comparable(record: RunRecord): unknown {
  const { fingerprint: _fingerprint, source, ...rest } = record;
  return { ...rest, source: { root: source.root, path: source.path } };
}

/** S3 stamps objects with its own upload time; give the files the same mtimes so mtime-derived fields can match. */
async function alignMtimes(base: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${ROOT_NAME}/`, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      const seconds = Math.floor((object.LastModified?.getTime() ?? 0) / 1000);
      const file = path.join(base, (object.Key ?? '').slice(ROOT_NAME.length + 1));
      await utimes(file, seconds, seconds);
    }
    token = page.NextContinuationToken;
  } while (token);
}

async function filesUnder(base: string): Promise<string[]> {
  const entries = await readdir(base, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(base, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
}

async function emptyBucket(): Promise<void> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    await Promise.all((page.Contents ?? []).map(async (o) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }))));
    token = page.NextContinuationToken;
  } while (token);
}
