import { describe, expect, it } from 'vitest';
import { memoryDriver } from '../../helpers/memory-driver.ts';
import { collect, testStorageDriver, type DriverFixture, type FixtureOptions } from '../../contract/storage-driver.ts';

// The parsers' property tests read through this driver; it must behave like the real ones.
testStorageDriver('memory (test helper)', makeMemoryDriver, () => {
  describe('test/helpers/memory-driver', () => {
    it('streams in small chunks, so parsers meet every chunk boundary', async () => {
      const driver = memoryDriver({ 'r/f': 'abcdefghijklmnop' });

      const chunks = await collectChunks(await driver.stream('r/f'));

      expect(chunks).toEqual(['abcdefg', 'hijklmn', 'op']);
    });

    it('keeps its own copy of the files it was given', async () => {
      const bytes = new TextEncoder().encode('before');
      const driver = memoryDriver({ 'r/f': bytes });

      bytes.set(new TextEncoder().encode('after!'));

      expect(new TextDecoder().decode((await driver.read('r/f')) ?? new Uint8Array())).toBe('before');
      expect((await collect(driver.list(''))).map((e) => e.key)).toEqual(['r/f']);
    });
  });
});

// --- internal ---

async function makeMemoryDriver(files: Record<string, Uint8Array | string>, opts: FixtureOptions = {}): Promise<DriverFixture> {
  return { driver: memoryDriver(files, opts), cleanup: async () => {} };
}

async function collectChunks(stream: AsyncIterable<Uint8Array> | null): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of stream ?? []) {
    out.push(new TextDecoder().decode(chunk));
  }
  return out;
}
