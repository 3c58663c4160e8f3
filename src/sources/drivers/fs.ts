import { Worker } from 'node:worker_threads';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { StorageError } from '../../errors.ts';
import { MODULE_EXT } from '../../module-ext.ts';
import type { WalkMessage } from '../fs-walk-worker.ts';
import { codeOf, isCode, isLocal, resolveKey, walkTree, type FsWalkOptions } from '../fs-walk.ts';
import { readFileBytes, streamFile, type ReadOptions } from '../fs-read.ts';
import type { SourceDriver, SourceEntry, SourceWarning } from '../types.ts';

export interface FsDriverOptions extends FsWalkOptions {
  /**
   * List on a worker thread, so that the walk (system calls, I/O waits) overlaps with what the caller
   * does with the entries. For long listings (a sync's crawl of a root); a short one is cheaper inline.
   */
  walkInWorker?: boolean;
  /** Deadline of one file read (or one chunk of a stream), ms: a hung mount turns the run into a parse_error instead of a hang. Default 60,000. */
  readTimeoutMs?: number;
}

const DRIVER_NAME = 'fs';

/** Default read deadline: far above any healthy read of a run's files, short enough that a hung mount is noticed. */
const READ_TIMEOUT_MS = 60_000;

export function createFsDriver(opts: FsDriverOptions): SourceDriver {
  const root = path.resolve(opts.root);
  const follow = opts.followSymlinks ?? false;
  let readOpts: ReadOptions | undefined;
  /** Reads use plain system calls on a local disk, the thread pool (with its deadline) on a network mount; decided once, on first use. */
  const readOptions = async (): Promise<ReadOptions> =>
    (readOpts ??= { noFollow: !follow, timeoutMs: opts.readTimeoutMs ?? READ_TIMEOUT_MS, sync: await isLocal(root, opts.io ?? 'auto') });

  /** A listing on this thread; under a root on a local disk with plain system calls from the start (see FsDriverOptions.io). */
  async function* listHere(prefix: string): AsyncGenerator<SourceEntry | SourceWarning> {
    const local = (opts.io ?? 'auto') === 'auto' && (await readOptions()).sync;
    yield* walkTree(local ? { ...opts, io: 'sync' } : opts, prefix);
  }

  return {
    name: DRIVER_NAME,
    flags: { etag: false, rangedRead: true },
    list(prefix) {
      if (opts.walkInWorker) {
        return walkInWorker(opts, prefix);
      }
      return listHere(prefix);
    },
    async read(key, range) {
      return readFileBytes(resolveKey(root, key), key, range, await readOptions());
    },
    async stream(key) {
      return streamFile(resolveKey(root, key), key, await readOptions());
    },
    async stat(key) {
      const info = await statOrNull(resolveKey(root, key), key);
      return info?.isFile() ? { key, size: info.size, mtime: info.mtimeMs } : null;
    },
  };
}

// --- internal ---

async function* walkInWorker(opts: FsDriverOptions, prefix: string): AsyncGenerator<SourceEntry | SourceWarning> {
  const worker = new Worker(new URL(`../fs-walk-worker${MODULE_EXT}`, import.meta.url), {
    workerData: { options: { ...opts, walkInWorker: false }, prefix },
    resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16 },
  });
  const queue: WalkMessage[] = [];
  let wake: (() => void) | null = null;
  worker.on('message', (message: WalkMessage) => {
    queue.push(message);
    wake?.();
  });
  worker.on('error', (err) => {
    queue.push({ error: { message: err.message, code: 'storage-list-failed' } });
    wake?.();
  });
  try {
    for (;;) {
      while (queue.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
      const message = queue.shift() as WalkMessage;
      if ('done' in message) {
        return;
      }
      if ('error' in message) {
        throw new StorageError('storage-list-failed', message.error.message);
      }
      worker.postMessage('ack');
      yield* message.items;
    }
  } finally {
    await worker.terminate();
  }
}

async function statOrNull(abs: string | Buffer, key: string) {
  try {
    return await stat(abs);
  } catch (err) {
    if (isCode(err, 'ENOENT') || isCode(err, 'ENOTDIR')) {
      return null;
    }
    throw new StorageError('storage-read-failed', `[${DRIVER_NAME}] stat ${key}: ${codeOf(err)}`, { cause: err });
  }
}
