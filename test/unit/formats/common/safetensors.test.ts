import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { readSafetensorsHeader, type RangeReader } from '../../../../src/formats/common/safetensors.ts';
import { parseTolerantJson } from '../../../../src/text/tolerant-json.ts';
import type { ByteRange } from '../../../../src/sources/types.ts';

const ERROR_CODES = ['not-found', 'lfs-pointer', 'too-small', 'absurd-length', 'truncated', 'bad-utf8', 'bad-json', 'bad-header'];

describe('formats/common/safetensors', () => {
  it('reads metadata and counts tensors of a small file in one read', async () => {
    const file = safetensors({ __metadata__: { ss_network_dim: '4', ss_resolution: '(768, 768)' }, 'lora.up.weight': tensor(), 'lora.down.weight': tensor() });
    const reads: ByteRange[] = [];

    const result = await readSafetensorsHeader(reader(file, reads), file.length);

    expect(result).toEqual({ ok: true, metadata: { ss_network_dim: '4', ss_resolution: '(768, 768)' }, tensorCount: 2, headerBytes: headerLength(file) });
    expect(reads).toEqual([{ start: 0, end: file.length }]);
  });

  it('reads a header larger than the first probe with a second ranged read, never past 8 + N', async () => {
    const big = 'x'.repeat(100_000);
    const file = safetensors({ __metadata__: { ss_tag_frequency: big }, t: tensor() }, 1_000_000);
    const reads: ByteRange[] = [];

    const result = await readSafetensorsHeader(reader(file, reads), file.length);

    expect(result.ok && result.metadata?.ss_tag_frequency).toBe(big);
    expect(reads).toEqual([
      { start: 0, end: 65_536 },
      { start: 65_536, end: 8 + headerLength(file) },
    ]);
  });

  it('returns null metadata when __metadata__ is absent and stringifies non-string values', async () => {
    const plain = safetensors({ t: tensor() });
    const civitai = safetensors({ __metadata__: { ss_tag_frequency: { dir: { tag: 3 } }, ss_epoch: 2 } });

    const a = await readSafetensorsHeader(reader(plain), plain.length);
    const b = await readSafetensorsHeader(reader(civitai), civitai.length);

    expect(a).toMatchObject({ ok: true, metadata: null, tensorCount: 1 });
    expect(b).toMatchObject({ ok: true, metadata: { ss_tag_frequency: '{"dir":{"tag":3}}', ss_epoch: '2' }, tensorCount: 0 });
  });

  it('accepts the space padding writers add for alignment', async () => {
    const json = new TextEncoder().encode('{"__metadata__":{"a":"b"}}      ');
    const file = withLength(json.length, json);

    const result = await readSafetensorsHeader(reader(file), file.length);

    expect(result).toEqual({ ok: true, metadata: { a: 'b' }, tensorCount: 0, headerBytes: json.length });
  });

  it.each([
    ['a Git LFS pointer', ascii('version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 647722\n'), 'lfs-pointer'],
    ['an empty file', new Uint8Array(0), 'too-small'],
    ['a 5-byte file', Uint8Array.from([1, 2, 3, 4, 5]), 'too-small'],
    ['a length above maxHeaderBytes', withLength(2000, new Uint8Array(2000)), 'absurd-length'],
    ['a length of 2^63', withLength(2n ** 63n, new Uint8Array(8)), 'absurd-length'],
    ['a header running past the end (file being written)', withLength(100, ascii('{"a":1}')), 'truncated'],
    ['invalid UTF-8', withLength(4, Uint8Array.from([0x7b, 0xc3, 0x28, 0x7d])), 'bad-utf8'],
    ['a header not starting with {', withLength(2, ascii('[]')), 'bad-header'],
    ['broken JSON', withLength(8, ascii('{"a": 1,')), 'bad-json'],
  ])('rejects %s', async (_name, file, code) => {
    const result = await readSafetensorsHeader(reader(file), file.length, { maxHeaderBytes: 1000 });

    expect(result).toMatchObject({ ok: false, code });
  });

  it('reports a missing file as not-found and a file that shrank as truncated', async () => {
    const file = safetensors({ __metadata__: { k: 'v'.repeat(70_000) } });
    const shrunk: RangeReader = async ({ start, end }) => file.slice(start, Math.min(end, 70_000));

    const missing = await readSafetensorsHeader(async () => null, 100);
    const short = await readSafetensorsHeader(shrunk, file.length);

    expect(missing).toMatchObject({ ok: false, code: 'not-found' });
    expect(short).toMatchObject({ ok: false, code: 'truncated' });
  });

  it('never throws on random bytes, random lengths or mutated valid files', async () => {
    const valid = safetensors({ __metadata__: { ss_network_dim: '4' }, t: tensor() });
    const arbitrary = fc.oneof(
      fc.uint8Array({ maxLength: 120 }),
      fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.uint8Array({ maxLength: 64 })).map(([n, body]) => withLength(n, body)),
      fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }).map((edits) => {
        const copy = valid.slice();
        for (const [at, v] of edits) {
          copy[at] = v;
        }
        return copy;
      }),
    );

    await fc.assert(
      fc.asyncProperty(arbitrary, async (file) => {
        const result = await readSafetensorsHeader(reader(file), file.length, { maxHeaderBytes: 4096 });

        if (!result.ok) {
          expect(ERROR_CODES).toContain(result.code);
          return;
        }
        // Accepted only when the stated length fits the file and its bytes are a JSON object.
        const length = headerLength(file);
        expect(result.headerBytes).toBe(length);
        expect(8 + length).toBeLessThanOrEqual(file.length);
        const header = parseTolerantJson(new TextDecoder().decode(file.subarray(8, 8 + length)));
        expect(header.ok).toBe(true);
        const keys = Object.keys(header.ok ? (header.value as object) : {});
        expect(result.tensorCount).toBe(keys.filter((k) => k !== '__metadata__').length);
      }),
      { numRuns: 1500 },
    );
  });
});

// --- internal ---

function safetensors(header: Record<string, unknown>, dataBytes = 16): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = withLength(json.length, json, dataBytes);
  return out;
}

function withLength(length: number | bigint, body: Uint8Array, trailing = 0): Uint8Array {
  const out = new Uint8Array(8 + body.length + trailing);
  new DataView(out.buffer).setBigUint64(0, BigInt(length), true);
  out.set(body, 8);
  return out;
}

function headerLength(file: Uint8Array): number {
  return Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
}

function tensor(): Record<string, unknown> {
  return { dtype: 'F16', shape: [2, 2], data_offsets: [0, 8] };
}

function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function reader(file: Uint8Array, log: ByteRange[] = []): RangeReader {
  return async (range) => {
    log.push(range);
    return file.slice(range.start, range.end);
  };
}
