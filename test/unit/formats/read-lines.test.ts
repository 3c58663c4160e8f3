import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readLines } from '../../../src/formats/parse-run.ts';
import { memoryDriver } from '../../helpers/memory-driver.ts';

async function collect(lines: Iterable<string> | AsyncIterable<string> | null): Promise<string[] | null> {
  if (lines === null) {
    return null;
  }
  const out: string[] = [];
  for await (const line of lines) {
    out.push(line);
  }
  return out;
}

describe('formats/parse-run readLines', () => {
  const piece = fc.oneof(
    fc.constantFrom('\n', '\r\n', '\r', 'loss=0.5', '训练', '\uFEFF', ' ', 'é'),
    fc.string({ maxLength: 20 }),
    fc.uint8Array({ minLength: 1, maxLength: 3 }).map((b) => Buffer.from(b).toString('latin1')),
  );
  const content = fc.oneof(
    fc.array(piece, { maxLength: 40 }).map((parts) => Buffer.from(parts.join(''))),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  );

  it('reads a small file in one go with exactly the lines streaming it gives (7-byte chunks), invalid UTF-8 and BOM included', async () => {
    await fc.assert(
      fc.asyncProperty(content, async (bytes) => {
        const driver = memoryDriver({ 'run/log.txt': bytes });
        const whole = await collect(await readLines(driver, 'run/log.txt', bytes.length));
        const streamed = await collect(await readLines(driver, 'run/log.txt', undefined));
        expect(whole).toEqual(streamed);
        expect(Array.isArray(await readLines(driver, 'run/log.txt', bytes.length))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('streams a file that grew since the listing or has a line over the cap, and gives null for a file that is gone', async () => {
    const long = `a\n${'x'.repeat(70 * 1024)}\nb\n`;
    const driver = memoryDriver({ 'grown.txt': 'one\ntwo\nthree\n', 'long.txt': long });

    expect(await collect(await readLines(driver, 'grown.txt', 4))).toEqual(['one', 'two', 'three']);
    expect(Array.isArray(await readLines(driver, 'long.txt', long.length))).toBe(false);
    expect(await readLines(driver, 'gone.txt', 10)).toBeNull();
  });
});
