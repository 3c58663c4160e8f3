import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { StorageError } from '../../src/errors.ts';
import { createS3Driver, type S3DriverOptions } from '../../src/sources/drivers/s3.ts';
import { isWarning } from '../../src/sources/types.ts';
import { collect, testStorageDriver, UTF16_TRAP_KEYS, type DriverFixture, type FixtureOptions } from '../contract/storage-driver.ts';
import { compareKeys } from '../../src/sources/order.ts';
import { s3Client, uniqueName } from './helpers.ts';
import { isList, startFaultProxy, type FaultAnswer, type FaultProxy } from './s3-fault-proxy.ts';

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

const s3 = s3Client();
const bucket = uniqueName('s3-driver');
let fixtures = 0;

beforeAll(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  await deletePrefix(s3, bucket, '');
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  s3.destroy();
});

testStorageDriver('s3', makeS3Driver, () => {
  describe('sources/drivers/s3', () => {
    it('pages through 25 keys two at a time, path-style, in order', async () => {
      const keys = Array.from({ length: 25 }, (_, i) => `runs/r${String(i).padStart(2, '0')}/log.txt`);
      const { root } = await upload(Object.fromEntries(keys.map((k) => [k, k])));
      const proxy = await startFaultProxy(inject('s3Endpoint'));

      const listed = await collect(driverVia(proxy, root, { pageSize: 2 }).list(''));

      await proxy.close();
      expect(listed.map((e) => e.key)).toEqual(keys);
      // 25 keys + the two directory markers upload() adds = 27 keys = 14 pages of 2.
      expect(proxy.requests.filter(isList)).toHaveLength(14);
      expect(proxy.requests.every((r) => r.url.startsWith(`/${bucket}`) && r.host.startsWith('127.0.0.1:'))).toBe(true);
    });

    it.each([
      [503, 'SlowDown'],
      [429, 'TooManyRequests'],
      [500, 'InternalError'],
    ])('retries list pages answered %i %s, then completes', async (status, code) => {
      const keys = ['a/1', 'a/2', 'b/1', 'b/2', 'c/1'];
      const { root } = await upload(Object.fromEntries(keys.map((k) => [k, k])));
      // Fails the first attempt of page 1 and of page 2: retries must cover every page, not only the first.
      const proxy = await startFaultProxy(inject('s3Endpoint'), (n) => (n === 1 || n === 3 ? { status, code } : null));

      const listed = await collect(driverVia(proxy, root, { pageSize: 2 }).list(''));

      await proxy.close();
      expect(listed.map((e) => e.key)).toEqual(keys);
      // 5 keys + 2 directory markers = 4 pages, plus the 2 failed attempts.
      expect(proxy.requests.map((r) => r.faulted)).toEqual([true, false, true, false, false, false]);
    });

    it("refuses S3Mock's UTF-16-ordered listing of keys whose UTF-8 order differs (real S3 lists them by bytes)", async () => {
      const { root, driver } = await makeS3Driver(Object.fromEntries(UTF16_TRAP_KEYS.map((key) => [key, key])));
      const raw = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${root}/` }));

      const error = await collect(driver.list('')).catch((err: unknown) => err);

      const rawKeys = (raw.Contents ?? []).map((o) => (o.Key ?? '').slice(root.length + 1)).filter((k) => k !== '' && !k.endsWith('/'));
      expect(rawKeys).toEqual([...UTF16_TRAP_KEYS].sort());
      expect(rawKeys).not.toEqual([...UTF16_TRAP_KEYS].sort(compareKeys));
      expect(error).toMatchObject({ code: 'storage-list-failed' });
    });

    it('throws storage-list-failed once retries are exhausted', async () => {
      const { root } = await upload({ 'a/1': 'x' });
      const proxy = await startFaultProxy(inject('s3Endpoint'), () => ({ status: 503, code: 'SlowDown' }));

      const error = await collect(driverVia(proxy, root, { maxAttempts: 3 }).list('')).catch((err: unknown) => err);

      await proxy.close();
      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({ code: 'storage-list-failed', cause: { name: 'SlowDown' } });
      expect(proxy.requests).toHaveLength(3);
    });

    it.each(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch'])('fails the listing at once on %s', async (code) => {
      const { root } = await upload({ 'a/1': 'x' });
      const proxy = await startFaultProxy(inject('s3Endpoint'), () => ({ status: 403, code }));

      const error = await collect(driverVia(proxy, root).list('')).catch((err: unknown) => err);

      await proxy.close();
      expect(error).toMatchObject({ code: 'storage-list-failed', cause: { name: code } });
      expect(proxy.requests).toHaveLength(1);
    });

    it('throws storage-list-failed for a missing bucket (S3Mock accepts any credentials, so this is its systemic failure)', async () => {
      const driver = createS3Driver({ bucket: uniqueName('missing'), endpoint: inject('s3Endpoint'), forcePathStyle: true, credentials: CREDENTIALS });

      const error = await collect(driver.list('')).catch((err: unknown) => err);

      expect(error).toMatchObject({ code: 'storage-list-failed', cause: { name: 'NoSuchBucket' } });
    });

    it('accepts wrong credentials (documents why auth is tested through the proxy)', async () => {
      const { root } = await upload({ 'a/1': 'x' });
      const driver = createS3Driver({
        bucket,
        prefix: root,
        endpoint: inject('s3Endpoint'),
        forcePathStyle: true,
        credentials: { accessKeyId: 'nobody', secretAccessKey: 'wrong' },
      });

      const listed = await collect(driver.list(''));

      expect(listed.map((e) => e.key)).toEqual(['a/1']);
    });

    it('throws storage-list-failed on a truncated page without a continuation token', async () => {
      const { root } = await upload({ 'a/1': 'x' });
      const page = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name><Prefix>${root}/</Prefix><KeyCount>1</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>true</IsTruncated><Contents><Key>${root}/a/1</Key><Size>1</Size><ETag>"x"</ETag><LastModified>2026-01-01T00:00:00.000Z</LastModified></Contents></ListBucketResult>`;
      const proxy = await startFaultProxy(inject('s3Endpoint'), (_, req) => (isList(req) ? ({ status: 200, body: page } satisfies FaultAnswer) : null));

      const items: string[] = [];
      const error = await (async () => {
        for await (const item of driverVia(proxy, root).list('')) {
          items.push(item.key);
        }
      })().catch((err: unknown) => err);

      await proxy.close();
      expect(error).toMatchObject({ code: 'storage-list-failed' });
      expect(items).toEqual(['a/1']);
    });

    it('returns null when an object is deleted between list and read', async () => {
      const { root, driver } = await makeS3Driver({ 'run/log.txt': 'hello', 'run/config.yaml': 'a: 1' });
      const listed = await collect(driver.list(''));

      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${root}/run/log.txt` }));
      const after = [
        await driver.read('run/log.txt'),
        await driver.read('run/log.txt', { start: 0, end: 2 }),
        await driver.stream('run/log.txt'),
        await driver.stat('run/log.txt'),
      ];

      expect(listed.filter((i) => !isWarning(i)).map((e) => e.key)).toEqual(['run/config.yaml', 'run/log.txt']);
      expect(after).toEqual([null, null, null, null]);
    });

    it('strips quotes from ETags and skips directory markers and keys outside the root', async () => {
      const { driver, cleanup } = await makeS3Driver({ 'x/file.txt': 'abc' });

      const listed = await collect(driver.list(''));

      await cleanup();
      expect(listed).toEqual([{ key: 'x/file.txt', size: 3, mtime: expect.any(Number), etag: '900150983cd24fb0d6963f7d28e17f72' }]);
    });
  });
});

// --- internal ---

/** Uploads `files` under a fresh prefix `f<n>/root`, plus decoys the driver must not list. */
async function upload(files: Record<string, Uint8Array | string>): Promise<{ root: string }> {
  fixtures += 1;
  const root = `f${fixtures}/root`;
  const decoys = { [`${root}-sibling/x`]: 'decoy', [`f${fixtures}/outside`]: 'decoy', [`${root}/`]: '', [`${root}/marker-dir/`]: '' };
  const objects = [...Object.entries(files).map(([key, body]) => [`${root}/${key}`, body] as const), ...Object.entries(decoys)];
  await Promise.all(objects.map(async ([key, body]) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(body) }))));
  return { root };
}

async function makeS3Driver(files: Record<string, Uint8Array | string>, opts: FixtureOptions = {}): Promise<DriverFixture & { root: string }> {
  const { root } = await upload(files);
  const driver = createS3Driver({ bucket, prefix: root, endpoint: inject('s3Endpoint'), forcePathStyle: true, credentials: CREDENTIALS, ...opts });
  return {
    root,
    driver,
    cleanup: async () => {
      await driver.dispose?.();
      await deletePrefix(s3, bucket, `${root.split('/')[0]}/`);
    },
  };
}

function driverVia(proxy: FaultProxy, root: string, opts: Partial<S3DriverOptions> = {}) {
  return createS3Driver({ bucket, prefix: root, endpoint: proxy.url, forcePathStyle: true, credentials: CREDENTIALS, ...opts });
}

async function deletePrefix(client: S3Client, name: string, prefix: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: name, Prefix: prefix || undefined, ContinuationToken: token }));
    await Promise.all((page.Contents ?? []).map(async (o) => client.send(new DeleteObjectCommand({ Bucket: name, Key: o.Key }))));
    token = page.NextContinuationToken;
  } while (token);
}
