import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { maskedCrc32c } from '../../../../src/formats/common/crc32c.ts';
import { MAX_ISSUES, readTfEvents, readTfEventScalars, type TfScalar } from '../../../../src/formats/common/tfevents.ts';
import { bytesField, chunked, concat, encodeEvent, encodeEventFile, frameRecord, stringField, type EventSpec } from './tfevents-encoder.ts';

const KOHYA_STEPS: EventSpec[] = [0, 1, 2].map((step) => ({
  wallTime: 1_700_000_100 + step,
  step,
  values: [
    { tag: 'loss/current', value: 0.5 - step / 10 },
    { tag: 'loss/average', value: 0.25, encoding: 'float_val' as const },
    { tag: 'lr/unet', value: 1e-4, encoding: 'double_content' as const },
  ],
}));

function trackedChunks(bytes: Uint8Array): { chunks: AsyncIterable<Uint8Array>; closed: () => boolean } {
  let closed = false;
  async function* gen(): AsyncGenerator<Uint8Array> {
    try {
      yield* chunked(bytes, 10);
    } finally {
      closed = true;
    }
  }
  return { chunks: gen(), closed: () => closed };
}

describe('formats/common/tfevents', () => {
  it('reads simple_value and tensor scalars of several tags, with step and wall time', async () => {
    const file = encodeEventFile([
      ...KOHYA_STEPS,
      { wallTime: 1_700_000_200, step: 1, values: [{ tag: 'loss/epoch', value: 0.3, encoding: 'float_content' }] },
    ]);

    const result = await readTfEvents(chunked(file));

    expect(result.fileVersion).toBe('brain.Event:2');
    expect(result.records).toBe(5);
    expect(result.issues).toEqual([]);
    expect([...result.scalars.keys()]).toEqual(['loss/current', 'loss/average', 'lr/unet', 'loss/epoch']);
    expect(result.scalars.get('loss/current')).toEqual([
      { tag: 'loss/current', step: 0, wallTime: 1_700_000_100, value: 0.5 },
      { tag: 'loss/current', step: 1, wallTime: 1_700_000_101, value: 0.4 },
      { tag: 'loss/current', step: 2, wallTime: 1_700_000_102, value: 0.3 },
    ]);
    expect(result.scalars.get('loss/average')?.map((p) => p.value)).toEqual([0.25, 0.25, 0.25]);
    expect(result.scalars.get('lr/unet')?.map((p) => p.value)).toEqual([1e-4, 1e-4, 1e-4]);
    expect(result.scalars.get('loss/epoch')).toEqual([{ tag: 'loss/epoch', step: 1, wallTime: 1_700_000_200, value: 0.3 }]);
    expect(result.pointCounts.get('loss/current')).toBe(3);
  });

  it.each([
    ['float_val', 2.5, 2.5],
    ['float_content', 2.5, 2.5],
    ['double_val', 2.5, 2.5],
    ['double_content', 2.5, 2.5],
    ['simple', 0.06, 0.06],
    ['float_val', 0.06, 0.06],
    ['float_content', 0.06, 0.06],
    ['double_val', 0.1 + 0.2, 0.1 + 0.2],
    ['double_content', 0.1 + 0.2, 0.1 + 0.2],
  ] as const)('reads a scalar written as %s %s (float32 as its shortest decimal, float64 as written)', async (encoding, written, expected) => {
    const file = encodeEventFile([{ step: 7, values: [{ tag: 'x', value: written, encoding, pluginName: 'scalars' }] }]);

    const result = await readTfEvents(chunked(file, 3));

    expect(result.scalars.get('x')?.map((p) => [p.step, p.value])).toEqual([[7, expected]]);
  });

  it('ignores float tensors of other plugins, also when later values omit the metadata', async () => {
    const file = encodeEventFile([
      { step: 1, values: [{ tag: 'hist', value: 1, encoding: 'float_val', pluginName: 'histograms' }] },
      { step: 2, values: [{ tag: 'hist', value: 2, encoding: 'float_val' }] },
      { step: 2, values: [{ tag: 'ok', value: 3, encoding: 'float_val' }] },
    ]);

    const result = await readTfEvents(chunked(file));

    expect([...result.scalars.keys()]).toEqual(['ok']);
  });

  it('ignores non-scalar tensors and values without a number', async () => {
    const textTensor = bytesField(8, [8, 7]);
    const event = Uint8Array.from(bytesField(5, bytesField(1, [...stringField(1, 'args/text_summary'), ...textTensor])));
    const file = concat([encodeEventFile([]), frameRecord(event)]);

    const result = await readTfEvents(chunked(file));

    expect(result.records).toBe(2);
    expect(result.scalars.size).toBe(0);
    expect(result.issues).toEqual([]);
  });

  it('selects tags with the filter', async () => {
    const file = encodeEventFile(KOHYA_STEPS);

    const result = await readTfEvents(chunked(file), { tags: (tag) => tag.startsWith('loss/') });

    expect([...result.scalars.keys()]).toEqual(['loss/current', 'loss/average']);
  });

  it('skips NaN and ±Infinity with a count', async () => {
    const file = encodeEventFile([
      {
        step: 1,
        values: [
          { tag: 'loss', value: Number.NaN },
          { tag: 'loss', value: Number.POSITIVE_INFINITY, encoding: 'double_val' },
        ],
      },
      {
        step: 2,
        values: [
          { tag: 'loss', value: Number.NEGATIVE_INFINITY },
          { tag: 'loss', value: 1 },
        ],
      },
    ]);

    const result = await readTfEvents(chunked(file));

    expect(result.nonFinite).toBe(3);
    expect(result.scalars.get('loss')?.map((p) => p.value)).toEqual([1]);
  });

  it('returns an empty result for zero-length input', async () => {
    const result = await readTfEvents(chunked(new Uint8Array(0)));

    expect(result).toEqual({ records: 0, nonFinite: 0, issues: [], issuesOmitted: 0, scalars: new Map(), pointCounts: new Map(), tagsOmitted: 0 });
  });

  it('stops with an issue when a length CRC is wrong', async () => {
    const good = encodeEventFile(KOHYA_STEPS.slice(0, 1));
    const bad = frameRecord(encodeEvent(KOHYA_STEPS[1]!));
    bad[8] = bad[8]! ^ 0xff;
    const file = concat([good, bad, frameRecord(encodeEvent(KOHYA_STEPS[2]!))]);

    const result = await readTfEvents(chunked(file));

    expect(result.issues).toEqual([{ code: 'crc-mismatch', offset: good.length, message: expect.any(String) }]);
    expect(result.scalars.get('loss/current')?.map((p) => p.step)).toEqual([0]);
  });

  it('skips a record whose data CRC is wrong and goes on', async () => {
    const first = encodeEventFile(KOHYA_STEPS.slice(0, 1));
    const bad = frameRecord(encodeEvent(KOHYA_STEPS[1]!));
    bad[20] = bad[20]! ^ 0x01;
    const file = concat([first, bad, frameRecord(encodeEvent(KOHYA_STEPS[2]!))]);

    const result = await readTfEvents(chunked(file));

    expect(result.issues.map((i) => [i.code, i.offset])).toEqual([['crc-mismatch', first.length]]);
    expect(result.scalars.get('loss/current')?.map((p) => p.step)).toEqual([0, 2]);
    expect(result.records).toBe(3);
  });

  it.each([
    ['inside the header', 5],
    ['inside the data', 20],
    ['inside the data CRC', 2],
  ])('reports a last record cut %s as truncated', async (_where, cut) => {
    const complete = encodeEventFile(KOHYA_STEPS.slice(0, 2));
    const last = frameRecord(encodeEvent(KOHYA_STEPS[2]!));
    const keep = cut === 2 ? last.length - 2 : cut;
    const file = concat([complete, last.subarray(0, keep)]);

    const result = await readTfEvents(chunked(file));

    expect(result.issues.map((i) => [i.code, i.offset])).toEqual([['truncated', complete.length]]);
    expect(result.scalars.get('loss/current')?.map((p) => p.step)).toEqual([0, 1]);
  });

  it('skips a record longer than maxRecordBytes without buffering it and reads on', async () => {
    const big = frameRecord(encodeEvent({ step: 9, values: [{ tag: 'pad'.repeat(100), value: 1 }] }));
    const head = encodeEventFile([]);
    const file = concat([head, big, frameRecord(encodeEvent(KOHYA_STEPS[0]!))]);

    const result = await readTfEvents(chunked(file, 64), { maxRecordBytes: 100 });

    expect(result.issues.map((i) => [i.code, i.offset])).toEqual([['record-too-large', head.length]]);
    expect(result.scalars.has('pad'.repeat(100))).toBe(false);
    expect(result.scalars.get('loss/current')?.length).toBe(1);
  });

  it('stops on an absurd length (> 2^53) with a record-too-large issue', async () => {
    const header = new Uint8Array(12);
    new DataView(header.buffer).setBigUint64(0, 2n ** 60n, true);
    new DataView(header.buffer).setUint32(8, maskedCrc32c(header.subarray(0, 8)), true);
    const file = concat([encodeEventFile([]), header, new Uint8Array(100)]);

    const result = await readTfEvents(chunked(file));

    expect(result.issues.map((i) => i.code)).toEqual(['record-too-large']);
  });

  it('reports a record that is not an Event as bad-proto and reads on', async () => {
    const file = concat([frameRecord(Uint8Array.from([0x0a, 0x7f])), encodeEventFile(KOHYA_STEPS.slice(0, 1))]);

    const result = await readTfEvents(chunked(file));

    expect(result.issues.map((i) => [i.code, i.offset])).toEqual([['bad-proto', 0]]);
    expect(result.scalars.get('loss/current')?.length).toBe(1);
  });

  it('keeps at most maxPointsPerTag points, evenly spaced, including first and last', async () => {
    const events: EventSpec[] = Array.from({ length: 1000 }, (_, step) => ({ step, values: [{ tag: 'loss', value: step }] }));

    const result = await readTfEvents(chunked(encodeEventFile(events), 4096), { maxPointsPerTag: 100 });

    const steps = result.scalars.get('loss')!.map((p) => p.step);
    expect(steps.length).toBeLessThanOrEqual(100);
    expect(steps.length).toBeGreaterThanOrEqual(50);
    expect(steps[0]).toBe(0);
    expect(steps.at(-1)).toBe(999);
    expect(result.pointCounts.get('loss')).toBe(1000);
  });

  it('caps the number of tags and counts the rest', async () => {
    const file = encodeEventFile([{ step: 1, values: ['a', 'b', 'c'].map((tag) => ({ tag, value: 1 })) }]);

    const result = await readTfEvents(chunked(file), { maxTags: 2 });

    expect([...result.scalars.keys()]).toEqual(['a', 'b']);
    expect(result.tagsOmitted).toBe(1);
  });

  it('keeps the first MAX_ISSUES issues and counts the others', async () => {
    const bad = frameRecord(encodeEvent(KOHYA_STEPS[0]!));
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
    const file = concat(Array.from({ length: MAX_ISSUES + 5 }, () => bad));

    const result = await readTfEvents(chunked(file, 1024));

    expect(result.issues).toHaveLength(MAX_ISSUES);
    expect(result.issuesOmitted).toBe(5);
  });

  it('streams scalars and returns the stats from the generator', async () => {
    const scan = readTfEventScalars(chunked(encodeEventFile(KOHYA_STEPS), 1));
    const seen: TfScalar[] = [];

    let next = await scan.next();
    while (next.done !== true) {
      seen.push(next.value);
      next = await scan.next();
    }

    expect(seen).toHaveLength(9);
    expect(next.value).toEqual({ fileVersion: 'brain.Event:2', records: 4, nonFinite: 0, issues: [], issuesOmitted: 0 });
  });

  it('releases the source when the consumer stops early or framing is lost', async () => {
    const file = encodeEventFile(KOHYA_STEPS);
    const broken = concat([file.subarray(0, 20), Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), file]);
    const early = trackedChunks(file);
    const lost = trackedChunks(broken);

    for await (const point of readTfEventScalars(early.chunks)) {
      expect(point.step).toBe(0);
      break;
    }
    await readTfEvents(lost.chunks);

    expect(early.closed()).toBe(true);
    expect(lost.closed()).toBe(true);
  });

  it('gives the same result whatever the chunking', async () => {
    const file = encodeEventFile(KOHYA_STEPS);
    const whole = await readTfEvents(chunked(file, file.length));

    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 200 }), async (size) => {
        expect(await readTfEvents(chunked(file, size))).toEqual(whole);
      }),
      { numRuns: 50 },
    );
  });

  it('never throws on random bytes: no record, one issue at offset 0 (short header or lost framing)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 64 }), async (bytes, size) => {
        const header = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        // A random header whose length CRC matches (odds 2^-32) is a real frame, not random bytes.
        fc.pre(bytes.length < 12 || maskedCrc32c(bytes.subarray(0, 8)) !== header.getUint32(8, true));

        const result = await readTfEvents(chunked(bytes, size));

        const code = bytes.length < 12 ? 'truncated' : 'crc-mismatch';
        expect(result.records).toBe(0);
        expect(result.scalars).toEqual(new Map());
        expect(result.issues.map((i) => [i.code, i.offset])).toEqual(bytes.length === 0 ? [] : [[code, 0]]);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws and always terminates on random mutations of a valid file', async () => {
    const file = encodeEventFile([...KOHYA_STEPS, { step: 3, values: [{ tag: 't', value: 1, encoding: 'float_val', pluginName: 'scalars' }] }]);
    const mutation = fc.array(fc.tuple(fc.nat({ max: file.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 });

    await fc.assert(
      fc.asyncProperty(mutation, fc.nat({ max: file.length }), async (edits, cut) => {
        const bytes = file.slice(0, Math.max(cut, 1));
        for (const [at, value] of edits) {
          if (at < bytes.length) {
            bytes[at] = value;
          }
        }

        const result = await readTfEvents(chunked(bytes, 13), { maxRecordBytes: 1024 });

        expect(result.records).toBeLessThanOrEqual(5);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on valid frames around random payloads (bad-proto paths)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 60 }), { maxLength: 10 }), async (payloads) => {
        const result = await readTfEvents(chunked(concat(payloads.map((p) => frameRecord(p))), 17));

        expect(result.records).toBe(payloads.length);
      }),
      { numRuns: 1000 },
    );
  });
});
