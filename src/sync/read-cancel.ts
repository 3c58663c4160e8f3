// A parse pool that closes while a worker is still reading (the report hook stops a read that outlives
// its share of the deadline) first asks the worker to stop: its reads then fail between two chunks, the
// run becomes a parse_error record at once, and the pool terminates a worker that is idle. Terminating a
// thread in the middle of its I/O and compilation is the one teardown Node cannot always do cleanly.
import { StorageError } from '../errors.ts';
import type { SourceDriver } from '../sources/types.ts';

/** Whether `flag` (shared by the pool and its workers) says: stop reading. */
export function cancelRequested(flag: Int32Array): boolean {
  return Atomics.load(flag, 0) !== 0;
}

/** Asks every reader of `flag` to stop. */
export function requestCancel(flag: Int32Array): void {
  Atomics.store(flag, 0, 1);
}

/** `driver`, whose reads and streamed chunks fail with `storage-read-cancelled` once `flag` is set. */
export function cancellable(driver: SourceDriver, flag: Int32Array): SourceDriver {
  const check = (key: string): void => {
    if (cancelRequested(flag)) {
      throw new StorageError('storage-read-cancelled', `[${driver.name}] read ${key}: cancelled (the parse pool is closing)`);
    }
  };
  return {
    name: driver.name,
    flags: driver.flags,
    list: (prefix) => driver.list(prefix),
    stat: (key) => driver.stat(key),
    async read(key, range) {
      check(key);
      return driver.read(key, range);
    },
    async stream(key) {
      check(key);
      const chunks = await driver.stream(key);
      return chunks && checked(chunks, () => check(key));
    },
  };
}

// --- internal ---

async function* checked(chunks: AsyncIterable<Uint8Array>, check: () => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    check();
    yield chunk;
  }
}
