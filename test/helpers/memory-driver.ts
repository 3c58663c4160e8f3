import picomatch from 'picomatch';
import type { ByteRange, SourceDriver, SourceEntry } from '../../src/sources/types.ts';

/** The include/exclude globs of the real drivers (same meaning: exclude also drops everything under a matching folder). */
export interface MemoryDriverOptions {
  include?: string[];
  exclude?: string[];
}

/**
 * A SourceDriver over an in-memory map of files, for fast property tests of the parsers. Passes the storage
 * contract (test/unit/sources/memory-driver.test.ts). Streams in 7-byte chunks so parsers meet chunk boundaries.
 */
export function memoryDriver(files: Record<string, Uint8Array | string>, opts: MemoryDriverOptions = {}): SourceDriver {
  const data = new Map(Object.entries(files).map(([key, value]) => [key, Buffer.from(value)]));
  const keys = [...data.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const include = opts.include && opts.include.length > 0 ? picomatch(opts.include, { dot: true }) : () => true;
  const exclude = opts.exclude && opts.exclude.length > 0 ? picomatch(opts.exclude, { dot: true }) : () => false;
  const listed = (key: string): boolean => include(key) && !ancestorsAndSelf(key).some((path) => exclude(path));
  const entry = (key: string): SourceEntry => ({ key, size: data.get(key)?.length ?? 0, mtime: 1_700_000_000_000 });
  return {
    name: 'memory',
    flags: { etag: false, rangedRead: true },
    async *list(prefix) {
      const sub = prefix.replace(/^\/+|\/+$/g, '');
      for (const key of keys) {
        if ((sub === '' || key.startsWith(`${sub}/`)) && listed(key)) {
          yield entry(key);
        }
      }
    },
    async read(key, range?: ByteRange) {
      const bytes = data.get(key);
      return bytes ? bytes.subarray(range?.start ?? 0, range?.end ?? bytes.length) : null;
    },
    async stream(key) {
      const bytes = data.get(key);
      if (!bytes) {
        return null;
      }
      return (async function* () {
        for (let i = 0; i < bytes.length; i += 7) {
          yield bytes.subarray(i, i + 7);
        }
      })();
    },
    async stat(key) {
      return data.has(key) ? entry(key) : null;
    },
  };
}

// --- internal ---

/** `a/b/c` → `a`, `a/b`, `a/b/c`. */
function ancestorsAndSelf(key: string): string[] {
  const parts = key.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}
