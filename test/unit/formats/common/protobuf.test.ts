import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  fixed32ToFloat,
  fixed64ToDouble,
  packedDoubles,
  packedFloats,
  packedVarints,
  protoFields,
  protoString,
  ProtobufError,
  readVarint,
} from '../../../../src/formats/common/protobuf.ts';
import { bytesField, doubleField, f32, f64, floatField, stringField, tagBytes, varintBytes, varintField } from './tfevents-encoder.ts';

describe('formats/common/protobuf', () => {
  it.each([
    [0, [0x00]],
    [1, [0x01]],
    [150, [0x96, 0x01]],
    [2 ** 31, [0x80, 0x80, 0x80, 0x80, 0x08]],
    [2 ** 32 + 5, [0x85, 0x80, 0x80, 0x80, 0x10]],
    [Number.MAX_SAFE_INTEGER, varintBytes(Number.MAX_SAFE_INTEGER)],
    [-1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    [-150, varintBytes(-150)],
  ])('reads varint %d', (expected, bytes) => {
    const cursor = { pos: 0 };

    const value = readVarint(Uint8Array.from(bytes), cursor);

    expect(value).toBe(expected);
    expect(cursor.pos).toBe(bytes.length);
  });

  it('yields every wire type in order and skips groups', () => {
    const group = [...tagBytes(7, 3), ...varintField(1, 9), ...tagBytes(8, 3), ...tagBytes(8, 4), ...tagBytes(7, 4)];
    const bytes = Uint8Array.from([...varintField(1, 42), ...doubleField(2, 1.5), ...group, ...stringField(3, 'héllo'), ...floatField(4, 0.25)]);

    const fields = [...protoFields(bytes)];

    expect(fields.map((f) => [f.field, f.wireType])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 5],
    ]);
    expect(fields[0]).toEqual({ field: 1, wireType: 0, value: 42 });
    expect(fixed64ToDouble((fields[1] as { bytes: Uint8Array }).bytes)).toBe(1.5);
    expect(protoString((fields[2] as { bytes: Uint8Array }).bytes)).toBe('héllo');
    expect(fixed32ToFloat((fields[3] as { bytes: Uint8Array }).bytes)).toBe(0.25);
  });

  it('reads packed repeated values', () => {
    expect(packedFloats(Uint8Array.from([...f32(1), ...f32(-2.5)]))).toEqual([1, -2.5]);
    expect(packedDoubles(Uint8Array.from([...f64(0.1), ...f64(3)]))).toEqual([0.1, 3]);
    expect(packedVarints(Uint8Array.from([...varintBytes(3), ...varintBytes(300), ...varintBytes(-2)]))).toEqual([3, 300, -2]);
  });

  it.each([
    ['truncated varint', [0x08, 0x96]],
    ['varint longer than 10 bytes', [0x08, ...Array.from({ length: 10 }, () => 0xff), 0x01]],
    ['field number 0', [0x00, 0x01]],
    ['length beyond the buffer', [...tagBytes(1, 2), 0x05, 0x61]],
    ['fixed64 cut short', [...tagBytes(1, 1), 1, 2, 3]],
    ['fixed32 cut short', [...tagBytes(1, 5), 1, 2]],
    ['wire type 6', [...tagBytes(1, 6)]],
    ['wire type 7', [...tagBytes(1, 7)]],
    ['unmatched end group', [...tagBytes(1, 4)]],
    ['end group with another field number', [...tagBytes(1, 3), ...tagBytes(2, 4)]],
    ['unterminated group', [...tagBytes(1, 3), ...varintField(2, 1)]],
    ['groups nested too deeply', Array.from({ length: 65 }, () => tagBytes(1, 3)).flat()],
    ['tag of 2^32', [0x80, 0x80, 0x80, 0x80, 0x10, 0x00]],
  ])('throws ProtobufError on %s', (_name, bytes) => {
    const read = () => [...protoFields(Uint8Array.from(bytes))];

    expect(read).toThrow(ProtobufError);
  });

  it('reports a malformed field with a stable code and offset', () => {
    const bytes = Uint8Array.from([...varintField(1, 1), ...tagBytes(2, 2), 0x7f]);

    const error = captureError(() => [...protoFields(bytes)]);

    expect(error).toBeInstanceOf(ProtobufError);
    expect((error as ProtobufError).code).toBe('adapter-parse-failed');
    expect((error as ProtobufError).offset).toBe(2);
  });

  it.each([
    ['packed floats', () => packedFloats(Uint8Array.from([1, 2, 3]))],
    ['packed doubles', () => packedDoubles(Uint8Array.from([1, 2, 3, 4]))],
    ['invalid UTF-8', () => protoString(Uint8Array.from([0xc3, 0x28]))],
    ['short fixed64', () => fixed64ToDouble(Uint8Array.from([1, 2, 3]))],
    ['short fixed32', () => fixed32ToFloat(Uint8Array.from([1]))],
  ])('throws ProtobufError on bad %s', (_name, read) => {
    expect(read).toThrow(ProtobufError);
  });

  it('reads nested length-delimited messages without copying', () => {
    const bytes = Uint8Array.from(bytesField(5, bytesField(1, stringField(1, 'x'))));

    const [outer] = [...protoFields(bytes)];

    expect(outer?.wireType === 2 && outer.bytes.buffer === bytes.buffer).toBe(true);
  });

  it('never throws anything but ProtobufError and always terminates on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          for (const f of protoFields(bytes)) {
            if (f.wireType === 2) {
              Array.from(protoFields(f.bytes));
            }
          }
        } catch (err) {
          expect(err).toBeInstanceOf(ProtobufError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

// --- internal ---

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}
