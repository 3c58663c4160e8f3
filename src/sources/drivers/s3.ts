import type * as S3Sdk from '@aws-sdk/client-s3';
import type { GetObjectCommandOutput, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import picomatch from 'picomatch';
import { StorageError, type ErrorCode } from '../../errors.ts';
import { compareKeys } from '../order.ts';
import type { ByteRange, SourceDriver, SourceEntry } from '../types.ts';

export interface S3DriverOptions {
  bucket: string;
  /** Key prefix of the root, without a leading slash; a trailing `/` is implied. Default `''` (the whole bucket). */
  prefix?: string;
  /** Custom endpoint URL for S3-compatible stores (MinIO, Ceph, S3Mock). Default: AWS for `region`. */
  endpoint?: string;
  /** Default `us-east-1`. */
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`), needed by most S3-compatible stores. Default false. */
  forcePathStyle?: boolean;
  /** Static credentials or a provider. Default: the standard AWS chain (env, profile, SSO, IMDS/IRSA…). */
  credentials?: S3ClientConfig['credentials'];
  /** Globs (relative to the root prefix) a key must match to be listed. Default: everything. */
  include?: string[];
  /** Globs (relative to the root prefix) of keys and "directories" to leave out; a matching directory drops every key below it. */
  exclude?: string[];
  /** Attempts per request, first one included, for throttling (503 SlowDown, 429), 5xx and network errors. Default 5. */
  maxAttempts?: number;
  /** SDK retry mode: `standard` (exponential backoff, full jitter) or `adaptive` (also rate-limits the client after throttling). Default `standard`. */
  retryMode?: 'standard' | 'adaptive';
  /** Keys per ListObjectsV2 page (S3 caps it at 1000). Small values are for tests. Default 1000. */
  pageSize?: number;
}

const DRIVER_NAME = 's3';

type Sdk = typeof S3Sdk;
let sdkLoading: Promise<Sdk> | undefined;

/** The AWS SDK is loaded when an S3 source is first used: a process (or parse worker) with only local roots does not pay its start-up. */
function sdk(): Promise<Sdk> {
  sdkLoading ??= import('@aws-sdk/client-s3');
  return sdkLoading;
}

/** Most S3 errors are retried by the SDK; 5 attempts ride out a burst of SlowDown without stalling a sync for minutes. */
const DEFAULT_MAX_ATTEMPTS = 5;

/** A stalled connection or idle socket fails (and is retried) instead of hanging a sync forever. */
const TIMEOUTS = { connectionTimeout: 10_000, socketTimeout: 60_000 };

/** Error names that mean "no such object" (HeadObject has no body, so it can only say `NotFound`). */
const NOT_FOUND = new Set(['NoSuchKey', 'NotFound']);

/** Keys with a surrogate (an astral character) are the only ones whose JS string order is not their byte order. */
const SURROGATE = /[\uD800-\uDFFF]/;

export function createS3Driver(opts: S3DriverOptions): SourceDriver {
  const bucket = opts.bucket;
  const root = normalisePrefix(opts.prefix ?? '');
  const include = opts.include && opts.include.length > 0 ? picomatch(opts.include, { dot: true }) : () => true;
  const excludeMatch = opts.exclude && opts.exclude.length > 0 ? picomatch(opts.exclude, { dot: true }) : null;
  let client: S3Client | undefined;

  async function getClient(): Promise<S3Client> {
    const { S3Client } = await sdk();
    client ??= new S3Client({
      region: opts.region ?? 'us-east-1',
      endpoint: opts.endpoint,
      forcePathStyle: opts.forcePathStyle ?? false,
      credentials: opts.credentials,
      // Every request, each list page included, goes through the SDK's retry middleware:
      // throttling (429, SlowDown) and 5xx are retried with exponential backoff and full jitter.
      maxAttempts: opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      retryMode: opts.retryMode ?? 'standard',
      requestHandler: TIMEOUTS,
    });
    return client;
  }

  return {
    name: DRIVER_NAME,
    flags: { etag: true, rangedRead: true },
    list(prefix) {
      const sub = prefix.replace(/^\/+|\/+$/g, '');
      const fullPrefix = sub === '' ? root : `${root}${sub}/`;
      const excluded = excludeMatch ? createExcluder(excludeMatch) : () => false;
      return listAll({ client: getClient, bucket, root, fullPrefix, pageSize: opts.pageSize, keep: (key) => !excluded(key) && include(key) });
    },
    async read(key, range) {
      if (range && range.end <= range.start) {
        return new Uint8Array(0);
      }
      const output = await getObject(await getClient(), bucket, root + key, key, range);
      if (output === null) {
        return null;
      }
      if (output === 'unsatisfiable') {
        return new Uint8Array(0);
      }
      return output.Body ? await output.Body.transformToByteArray() : new Uint8Array(0);
    },
    async stream(key) {
      const output = await getObject(await getClient(), bucket, root + key, key);
      if (output === null || output === 'unsatisfiable') {
        return output === null ? null : emptyStream();
      }
      return bodyChunks(output);
    },
    async stat(key) {
      try {
        // https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
        const { HeadObjectCommand } = await sdk();
        const head = await (await getClient()).send(new HeadObjectCommand({ Bucket: bucket, Key: root + key }));
        return { key, size: head.ContentLength ?? 0, mtime: wholeSeconds(head.LastModified), ...etagOf(head.ETag) };
      } catch (err) {
        if (isNotFound(err)) {
          return null;
        }
        throw storageError('storage-read-failed', `stat ${key}`, err);
      }
    },
    async dispose() {
      client?.destroy();
      client = undefined;
    },
  };
}

// --- internal ---

interface ListOptions {
  client: () => Promise<S3Client>;
  bucket: string;
  root: string;
  fullPrefix: string;
  pageSize: number | undefined;
  keep: (key: string) => boolean;
}

/**
 * One page in memory at a time. No sorting: S3 returns keys in ascending UTF-8 byte order, which is
 * exactly the order the driver contract requires (general-purpose buckets; directory buckets do not sort).
 * Some S3-compatible stores sort by UTF-16 code units instead (S3Mock does), which differs once keys mix
 * astral characters with U+E000–U+FFFF; a listing out of order would make sync mark runs vanished, so it fails.
 */
async function* listAll(opts: ListOptions): AsyncGenerator<SourceEntry> {
  const where = `list s3://${opts.bucket}/${opts.fullPrefix.replace(/\/$/, '')}`;
  let token: string | undefined;
  let previous: string | undefined;
  const { ListObjectsV2Command } = await sdk();
  const client = await opts.client();
  do {
    let page;
    try {
      // https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
      page = await client.send(
        new ListObjectsV2Command({ Bucket: opts.bucket, Prefix: opts.fullPrefix || undefined, ContinuationToken: token, MaxKeys: opts.pageSize }),
      );
    } catch (err) {
      // Auth failures (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch), a missing bucket and
      // errors still failing after the SDK's retries are systemic: the listing cannot be completed.
      throw storageError('storage-list-failed', where, err);
    }
    for (const object of page.Contents ?? []) {
      const fullKey = object.Key;
      if (fullKey === undefined) {
        continue;
      }
      if (previous !== undefined && !isAscending(previous, fullKey)) {
        throw new StorageError(
          'storage-list-failed',
          `[${DRIVER_NAME}] ${where}: the store lists ${JSON.stringify(fullKey)} after ${JSON.stringify(previous)}, not in UTF-8 byte order`,
        );
      }
      previous = fullKey;
      const key = fullKey.slice(opts.root.length);
      if (!fullKey.endsWith('/') && fullKey.startsWith(opts.root) && opts.keep(key)) {
        yield { key, size: object.Size ?? 0, mtime: wholeSeconds(object.LastModified), ...etagOf(object.ETag) };
      }
    }
    token = page.NextContinuationToken;
    if (page.IsTruncated && !token) {
      throw new StorageError('storage-list-failed', `[${DRIVER_NAME}] ${where}: truncated page without a continuation token`);
    }
    if (!page.IsTruncated) {
      token = undefined;
    }
  } while (token);
}

/** `null` = no such key; `'unsatisfiable'` = the range starts at or past the end (416). */
async function getObject(
  client: S3Client,
  bucket: string,
  fullKey: string,
  key: string,
  range?: ByteRange,
): Promise<GetObjectCommandOutput | 'unsatisfiable' | null> {
  try {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (Range: RFC 9110 byte range, end inclusive)
    const { GetObjectCommand } = await sdk();
    return await client.send(new GetObjectCommand({ Bucket: bucket, Key: fullKey, Range: range ? `bytes=${range.start}-${range.end - 1}` : undefined }));
  } catch (err) {
    if (isNotFound(err)) {
      return null;
    }
    if (range && (nameOf(err) === 'InvalidRange' || statusOf(err) === 416)) {
      return 'unsatisfiable';
    }
    throw storageError('storage-read-failed', `read ${key}`, err);
  }
}

async function* bodyChunks(output: GetObjectCommandOutput): AsyncGenerator<Uint8Array> {
  const body = output.Body as unknown;
  if (body && typeof body === 'object' && Symbol.asyncIterator in body) {
    // In Node the body is the IncomingMessage itself: chunks arrive as the socket delivers them.
    yield* body as AsyncIterable<Uint8Array>;
    return;
  }
  if (output.Body) {
    yield await output.Body.transformToByteArray();
  }
}

async function* emptyStream(): AsyncGenerator<Uint8Array> {}

/**
 * Exclude globs apply to a key and to each of its parent "directories", like the fs driver that does
 * not descend an excluded directory. Keys arrive sorted, so the verdict of the last parent is reused.
 */
function createExcluder(match: (path: string) => boolean): (key: string) => boolean {
  let lastDir: string | undefined;
  let lastVerdict = false;
  return (key) => {
    const slash = key.lastIndexOf('/');
    const dir = slash < 0 ? '' : key.slice(0, slash);
    if (dir !== lastDir) {
      lastDir = dir;
      lastVerdict = dir !== '' && ancestorsOf(dir).some(match);
    }
    return lastVerdict || match(key);
  };
}

/** `a/b/c` → `a`, `a/b`, `a/b/c`. */
function ancestorsOf(dir: string): string[] {
  const parts = dir.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** UTF-16 and UTF-8 orders agree unless a surrogate is involved, so the byte comparison is only paid then. */
function isAscending(previous: string, key: string): boolean {
  return SURROGATE.test(previous) || SURROGATE.test(key) ? compareKeys(previous, key) < 0 : previous < key;
}

/**
 * HeadObject's Last-Modified is an HTTP date (whole seconds) while some stores list milliseconds;
 * truncating both keeps `stat` equal to the listing entry.
 */
function wholeSeconds(date: Date | undefined): number {
  return date ? Math.floor(date.getTime() / 1000) * 1000 : 0;
}

function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

function etagOf(etag: string | undefined): { etag?: string } {
  return etag ? { etag: etag.replace(/^(W\/)?"|"$/g, '') } : {};
}

function isNotFound(err: unknown): boolean {
  return NOT_FOUND.has(nameOf(err)) || (statusOf(err) === 404 && nameOf(err) !== 'NoSuchBucket');
}

function storageError(code: ErrorCode, where: string, err: unknown): StorageError {
  const status = statusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  return new StorageError(code, `[${DRIVER_NAME}] ${where}: ${status ? `${status} ` : ''}${nameOf(err)} ${message}`.trimEnd(), { cause: err });
}

function nameOf(err: unknown): string {
  return err instanceof Error ? err.name : '';
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}
