import type { ByteRange, SourceDriver, SourceEntry } from '../../src/sources/types.ts';

/** A SourceDriver over an in-memory map of files, for fast property tests of the parsers. */
export function memoryDriver(files: Record<string, Uint8Array | string>): SourceDriver {
  const data = new Map(Object.entries(files).map(([key, value]) => [key, typeof value === 'string' ? Buffer.from(value) : Buffer.from(value)]));
  const keys = [...data.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const entry = (key: string): SourceEntry => ({ key, size: data.get(key)?.length ?? 0, mtime: 1_700_000_000_000 });
  return {
    name: 'memory',
    flags: { etag: false, rangedRead: true },
    async *list(prefix) {
      for (const key of keys) {
        if (prefix === '' || key.startsWith(`${prefix}/`)) {
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
