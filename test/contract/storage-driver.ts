import { describe, expect, it } from 'vitest';
import { compareKeys } from '../../src/sources/order.ts';
import { isWarning, type SourceDriver, type SourceEntry, type SourceWarning } from '../../src/sources/types.ts';

export interface DriverFixture {
  driver: SourceDriver;
  cleanup(): Promise<void>;
}

/** Globs passed through to the driver under test (same meaning for every driver). */
export interface FixtureOptions {
  include?: string[];
  exclude?: string[];
}

/** Stores `files` (key → content) in a fresh root and returns a driver on it. */
export type MakeDriver = (files: Record<string, Uint8Array | string>, opts?: FixtureOptions) => Promise<DriverFixture>;

/** Keys whose byte order differs from naive orders: `-` < `.` < `/`, case, spaces, multi-byte and astral UTF-8. */
export const TRICKY_KEYS = [
  'a-b/x',
  'a/x',
  'a.txt',
  'a/y/z.bin',
  'b',
  'B',
  'é/x',
  '日本/x',
  'emoji-😀/x',
  'deep/1/2/3/4/5/6/7/8/9/file.json',
  'deep/1/2/3/sibling.txt',
  'deep/1-1/x',
  'with space/and+plus=eq.txt',
];

/** U+FF21 and U+FB00 sort after astral characters in UTF-8 but before them in UTF-16 (JS, Java). */
export const UTF16_TRAP_KEYS = ['Ａ/x', '😀/x', 'ﬀ.txt', '𝔸/y', 'z'];

/** Five megabytes: several stream chunks for every driver, still quick to upload. */
export const BIG_SIZE = 5 * 1024 * 1024;

/**
 * The storage contract every `SourceDriver` must pass. `extra` adds driver-specific cases inside
 * the same `describe`, with the same `makeDriver`.
 */
export function testStorageDriver(name: string, makeDriver: MakeDriver, extra?: (makeDriver: MakeDriver) => void): void {
  describe(`storage driver contract: ${name}`, () => {
    it('lists every file with its size, in byte order of key', async () => {
      const files = Object.fromEntries(TRICKY_KEYS.map((key, i) => [key, 'x'.repeat(i * 3)]));
      const fixture = await makeDriver(files);

      const items = await collect(fixture.driver.list(''));

      try {
        expect(items.filter(isWarning)).toEqual([]);
        const entries = items as SourceEntry[];
        expect(entries.map((e) => e.key)).toEqual([...TRICKY_KEYS].sort(compareKeys));
        for (const entry of entries) {
          expect(entry.size).toBe(TRICKY_KEYS.indexOf(entry.key) * 3);
          expect(entry.mtime).toBeGreaterThan(Date.parse('2000-01-01'));
          expect(entry.etag === undefined).toBe(!fixture.driver.flags.etag);
        }
      } finally {
        await fixture.cleanup();
      }
    });

    it('lists keys whose UTF-16 order differs in UTF-8 byte order, or fails the listing (never silently out of order)', async () => {
      const fixture = await makeDriver(Object.fromEntries(UTF16_TRAP_KEYS.map((key) => [key, key])));

      const outcome = await collect(fixture.driver.list('')).then(
        (items) => items.map((item) => item.key),
        (err: unknown) => (err as { code?: string }).code,
      );

      await fixture.cleanup();
      expect([[...UTF16_TRAP_KEYS].sort(compareKeys), 'storage-list-failed']).toContainEqual(outcome);
    });

    it.each([
      ['a', ['a/x', 'a/y/z.bin']],
      ['a/', ['a/x', 'a/y/z.bin']],
      ['deep/1/2', ['deep/1/2/3/4/5/6/7/8/9/file.json', 'deep/1/2/3/sibling.txt']],
      ['日本', ['日本/x']],
      ['missing', []],
    ])('lists only the keys under prefix %j', async (prefix, expected) => {
      const fixture = await makeDriver(Object.fromEntries(TRICKY_KEYS.map((key) => [key, key])));

      const keys = (await collect(fixture.driver.list(prefix))).map((item) => item.key);

      await fixture.cleanup();
      expect(keys).toEqual(expected);
    });

    it.each([
      [{ include: ['**/*.json'] }, ['run/a.json', 'run/cache/c.json', 'run/tmp/sub/b.json']],
      [{ exclude: ['**/tmp/**'] }, ['run/a.json', 'run/cache/c.json', 'run/log.txt']],
      [{ exclude: ['**/cache'] }, ['run/a.json', 'run/log.txt', 'run/tmp/sub/b.json']],
      [{ include: ['**/*.json'], exclude: ['**/tmp/**', '**/cache'] }, ['run/a.json']],
    ])('applies include/exclude globs %j', async (opts, expected) => {
      const files = { 'run/a.json': '{}', 'run/log.txt': 'x', 'run/tmp/sub/b.json': '{}', 'run/cache/c.json': '{}' };
      const fixture = await makeDriver(files, opts);

      const keys = (await collect(fixture.driver.list(''))).map((item) => item.key);

      await fixture.cleanup();
      expect(keys).toEqual(expected);
    });

    it('reads whole files and byte ranges', async () => {
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
      const fixture = await makeDriver({ 'r/all-bytes.bin': bytes, 'r/empty': '' });
      const { driver } = fixture;

      const results = {
        whole: plain(await driver.read('r/all-bytes.bin')),
        first8: plain(await driver.read('r/all-bytes.bin', { start: 0, end: 8 })),
        middle: plain(await driver.read('r/all-bytes.bin', { start: 100, end: 120 })),
        pastEnd: plain(await driver.read('r/all-bytes.bin', { start: 250, end: 1000 })),
        startPastEnd: plain(await driver.read('r/all-bytes.bin', { start: 300, end: 400 })),
        emptyFile: plain(await driver.read('r/empty')),
        emptyRange: plain(await driver.read('r/empty', { start: 0, end: 8 })),
      };

      await fixture.cleanup();
      expect(results.whole).toEqual(bytes);
      expect(results.first8).toEqual(bytes.subarray(0, 8));
      expect(results.middle).toEqual(bytes.subarray(100, 120));
      expect(results.pastEnd).toEqual(bytes.subarray(250));
      expect(results.startPastEnd).toEqual(new Uint8Array(0));
      expect(results.emptyFile).toEqual(new Uint8Array(0));
      expect(results.emptyRange).toEqual(new Uint8Array(0));
    });

    it('returns null for a missing key on read, stream and stat', async () => {
      const fixture = await makeDriver({ 'here/file.txt': 'hello' });
      const { driver } = fixture;

      const results = [
        await driver.read('here/missing.txt'),
        await driver.read('nowhere/missing.txt', { start: 0, end: 8 }),
        await driver.stream('here/missing.txt'),
        await driver.stat('here/missing.txt'),
        await driver.stat('here'),
      ];

      await fixture.cleanup();
      expect(results).toEqual([null, null, null, null, null]);
    });

    it('stats a file like its listing entry', async () => {
      const fixture = await makeDriver({ 'dir/é file.json': '{"a":1}' });

      const listed = await collect(fixture.driver.list(''));
      const stat = await fixture.driver.stat('dir/é file.json');

      await fixture.cleanup();
      expect(stat).toEqual(listed[0]);
      expect(stat).toMatchObject({ key: 'dir/é file.json', size: 7 });
    });

    it('streams a 5 MB file in several chunks that add up to its content', async () => {
      const big = pseudoRandomBytes(BIG_SIZE);
      const fixture = await makeDriver({ 'logs/train.log': big });

      const stream = await fixture.driver.stream('logs/train.log');
      const chunks: Uint8Array[] = [];
      for await (const chunk of stream ?? []) {
        chunks.push(chunk);
      }

      await fixture.cleanup();
      expect(chunks.length).toBeGreaterThan(1);
      // A loop, not Math.max(...spread): a driver may yield hundreds of thousands of small chunks.
      expect(chunks.reduce((max, c) => Math.max(max, c.length), 0)).toBeLessThan(BIG_SIZE);
      expect(Buffer.concat(chunks).equals(big)).toBe(true);
    });

    it('lists nothing in an empty root', async () => {
      const fixture = await makeDriver({});

      const items = await collect(fixture.driver.list(''));

      await fixture.cleanup();
      expect(items).toEqual([]);
    });

    extra?.(makeDriver);
  });
}

/** Drivers may return a Buffer (a Uint8Array subclass); compare bytes, not classes. */
function plain(bytes: Uint8Array | null): Uint8Array | null {
  return bytes === null ? null : new Uint8Array(bytes);
}

/** Drains a listing; fails instead of hanging if a walk does not terminate. */
export async function collect(items: AsyncIterable<SourceEntry | SourceWarning>, limit = 100_000): Promise<(SourceEntry | SourceWarning)[]> {
  const out: (SourceEntry | SourceWarning)[] = [];
  for await (const item of items) {
    out.push(item);
    if (out.length > limit) {
      throw new Error(`listing did not end after ${limit} items`);
    }
  }
  return out;
}

/** Deterministic incompressible bytes (xorshift32), so a chunking bug cannot hide behind repeated content. */
export function pseudoRandomBytes(size: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
