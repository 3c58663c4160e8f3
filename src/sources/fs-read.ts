// File reads of the fs driver. Two promises hold for every read:
// - It never blocks on a file that is not a regular file. Files are opened with O_NONBLOCK, so a FIFO
//   (behind a followed symlink, or swapped in for a config after the listing) opens at once and reads
//   as empty or fails (ESPIPE/EAGAIN) instead of waiting for a writer forever; a stuck thread-pool
//   thread cannot be freed, and it also keeps the process from exiting (libuv joins its threads at exit).
// - It has a deadline (a hung network mount): past it the read rejects with `storage-read-timeout`,
//   naming the file, and the run becomes a parse_error record; the late descriptor is closed if the
//   call ever returns.
// Small ranged reads (the parsers read configs and JSON states with `end` = listed size + 1) cost one
// open, one read into a buffer of the range's size, and one close: no stat, no FileHandle, no stream.
// On a local disk (`sync`) those are plain system calls: a thread-pool round trip costs several times
// the call itself (bench/fs-read.ts: 20,000 small files, ~150 ms CPU sync vs ~850 ms through the pool).
// A plain call has no deadline, but with O_NONBLOCK a local read cannot wait on a FIFO either; the
// deadline is for network filesystems, where reads go through the pool.
import { close, closeSync, constants, fstat, fstatSync, open, openSync, read, readSync, type Stats } from 'node:fs';
import { StorageError } from '../errors.ts';
import { reportStuckRead } from './stuck-io.ts';
import type { ByteRange } from './types.ts';

export interface ReadOptions {
  /** Refuse a path whose last component is a symbolic link (O_NOFOLLOW) when the walk does not follow them. */
  noFollow: boolean;
  /** Deadline of one read (open to close) or of one stream chunk, in ms (thread-pool reads only). */
  timeoutMs: number;
  /** Plain system calls instead of thread-pool round trips (local disks). */
  sync: boolean;
}

/** Label in every error, as in the driver. */
const DRIVER_NAME = 'fs';

/** Ranged reads up to this size are one open + read + close; larger ones check the file type first. */
export const SMALL_READ = 256 * 1024;

/** Chunk size of a stream: large enough for throughput, small enough to bound memory. */
const STREAM_CHUNK = 256 * 1024;

/** Bytes of the object in `range` (clipped to its size), or of the whole object; `null` when it does not exist. */
export async function readFileBytes(path: string | Buffer, key: string, range: ByteRange | undefined, opts: ReadOptions): Promise<Uint8Array | null> {
  if (opts.sync) {
    return readFileBytesSync(path, key, range, opts);
  }
  return withDeadline(key, opts, async (track) => {
    const fd = await openFile(path, key, opts, track);
    if (fd === null) {
      return null;
    }
    try {
      if (range && range.end - range.start <= SMALL_READ) {
        return await readRange(fd, key, range.start, Math.max(0, range.end - range.start));
      }
      const size = (await requireRegular(fd, key)).size;
      const start = Math.min(range?.start ?? 0, size);
      const end = Math.min(range?.end ?? size, size);
      return await readRange(fd, key, start, Math.max(0, end - start));
    } finally {
      close(fd, () => {});
    }
  });
}

/** A regular file's bytes in chunks, each chunk under the deadline; `null` when it does not exist or is not a regular file. */
export async function streamFile(path: string | Buffer, key: string, opts: ReadOptions): Promise<AsyncIterable<Uint8Array> | null> {
  const fd = await withDeadline(key, opts, async (track) => {
    const opened = await openFile(path, key, opts, track);
    if (opened === null) {
      return null;
    }
    const info = await call<Stats>((cb) => fstat(opened, cb)).catch((err: unknown) => {
      close(opened, () => {});
      throw readError(key, err);
    });
    if (!info.isFile()) {
      close(opened, () => {});
      return null;
    }
    return opened;
  });
  return fd === null ? null : chunks(fd, key, opts);
}

// --- internal ---

const flagsOf = (opts: ReadOptions) => constants.O_RDONLY | constants.O_NONBLOCK | (opts.noFollow ? constants.O_NOFOLLOW : 0);

function readFileBytesSync(path: string | Buffer, key: string, range: ByteRange | undefined, opts: ReadOptions): Uint8Array | null {
  let fd: number;
  try {
    fd = openSync(path, flagsOf(opts));
  } catch (err) {
    if (isMissing(err, opts)) {
      return null;
    }
    throw readError(key, err);
  }
  try {
    let start = range?.start ?? 0;
    let length = range ? range.end - range.start : 0;
    if (!range || length > SMALL_READ) {
      const info = fstatSync(fd);
      if (!info.isFile()) {
        throw new StorageError('storage-read-failed', `[${DRIVER_NAME}] read ${key}: not a regular file`);
      }
      start = Math.min(start, info.size);
      length = Math.min(range?.end ?? info.size, info.size) - start;
    }
    const buf = Buffer.allocUnsafe(Math.max(0, length));
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, start + off);
      if (n === 0) {
        break;
      }
      off += n;
    }
    return off === buf.length ? buf : buf.subarray(0, off);
  } catch (err) {
    throw err instanceof StorageError ? err : readError(key, err);
  } finally {
    closeSync(fd);
  }
}

type Track = (fd: number) => void;

async function* chunks(fd: number, key: string, opts: ReadOptions): AsyncGenerator<Uint8Array> {
  let position = 0;
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(STREAM_CHUNK);
      const n = await withDeadline(key, opts, () =>
        call<number>((cb) => read(fd, buf, 0, STREAM_CHUNK, position, cb)).catch((err: unknown) => Promise.reject(readError(key, err))),
      );
      if (n === 0) {
        return;
      }
      position += n;
      yield n === STREAM_CHUNK ? buf : buf.subarray(0, n);
    }
  } finally {
    close(fd, () => {});
  }
}

async function openFile(path: string | Buffer, key: string, opts: ReadOptions, track: Track): Promise<number | null> {
  try {
    const fd = await call<number>((cb) => open(path, flagsOf(opts), cb));
    track(fd);
    return fd;
  } catch (err) {
    if (isMissing(err, opts)) {
      return null;
    }
    throw readError(key, err);
  }
}

/** Not there, for a reader: ELOOP under O_NOFOLLOW means a symbolic link, which an unfollowing walk never lists. */
function isMissing(err: unknown, opts: ReadOptions): boolean {
  return isCode(err, 'ENOENT') || isCode(err, 'ENOTDIR') || (opts.noFollow && isCode(err, 'ELOOP'));
}

/** Reads `length` bytes at `start` into one buffer; fewer at end of file. */
async function readRange(fd: number, key: string, start: number, length: number): Promise<Uint8Array> {
  const buf = Buffer.allocUnsafe(length);
  let off = 0;
  while (off < length) {
    let n: number;
    try {
      n = await call<number>((cb) => read(fd, buf, off, length - off, start + off, cb));
    } catch (err) {
      throw readError(key, err);
    }
    if (n === 0) {
      break;
    }
    off += n;
  }
  return off === length ? buf : buf.subarray(0, off);
}

async function requireRegular(fd: number, key: string): Promise<Stats> {
  let info: Stats;
  try {
    info = await call<Stats>((cb) => fstat(fd, cb));
  } catch (err) {
    throw readError(key, err);
  }
  if (!info.isFile()) {
    throw new StorageError('storage-read-failed', `[${DRIVER_NAME}] read ${key}: not a regular file`);
  }
  return info;
}

/**
 * Runs `task` under the read deadline. On timeout the promise rejects; a descriptor the task opens
 * later (the call was only slow) is closed when it arrives, so nothing leaks.
 */
function withDeadline<T>(key: string, opts: ReadOptions, task: (track: Track) => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // A thread-pool thread is held until the call returns (see stuck-io.ts).
      reportStuckRead(key, true);
      reject(new StorageError('storage-read-timeout', `[${DRIVER_NAME}] read ${key}: read timed out after ${opts.timeoutMs / 1000} s`));
    }, opts.timeoutMs);
    const track: Track = (fd) => {
      if (timedOut) {
        close(fd, () => {});
        throw new Error('opened after the deadline');
      }
    };
    const late = () => {
      if (timedOut) {
        reportStuckRead(key, false);
      }
    };
    task(track).then(
      (value) => {
        late();
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        late();
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

function call<T>(fn: (cb: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value)));
  });
}

function readError(key: string, err: unknown): StorageError {
  // A FIFO or socket swapped in for a file: pread is refused (ESPIPE) or there is nothing to read yet (EAGAIN).
  const detail = isCode(err, 'ESPIPE') || isCode(err, 'EAGAIN') || isCode(err, 'EISDIR') ? 'not a regular file' : codeOf(err);
  return new StorageError('storage-read-failed', `[${DRIVER_NAME}] read ${key}: ${detail}`, { cause: err });
}

function isCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

function codeOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : String(err);
}
