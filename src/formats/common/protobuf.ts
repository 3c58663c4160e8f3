import { AdapterError, type PipelineErrorOptions } from '../../errors.ts';

/** A varint field. `value` is the two's-complement int64 reading (right for int32/int64/enum/bool), exact up to 2^53. */
export interface ProtoVarintField {
  field: number;
  wireType: 0;
  value: number;
}

/** A fixed64 (wire type 1), length-delimited (2) or fixed32 (5) field. `bytes` is a zero-copy view into the input. */
export interface ProtoBytesField {
  field: number;
  wireType: 1 | 2 | 5;
  bytes: Uint8Array;
}

export type ProtoField = ProtoVarintField | ProtoBytesField;

/** Malformed protobuf wire data. `offset` is relative to the buffer handed to the reader. */
export class ProtobufError extends AdapterError {
  readonly offset: number;

  constructor(message: string, offset: number, options: PipelineErrorOptions = {}) {
    super('adapter-parse-failed', `[protobuf] ${message} at byte ${offset}`, options);
    this.offset = offset;
  }
}

/** A varint never needs more than 10 bytes; more means corruption, not a big number. */
const MAX_VARINT_BYTES = 10;

/** Bounds the stack kept while skipping (deprecated) groups, so hostile nesting cannot exhaust memory. */
const MAX_GROUP_DEPTH = 64;

/** Largest valid field number (2^29 - 1). */
const MAX_FIELD_NUMBER = 0x1fffffff;

/** Reused for fixed-width decoding: a DataView per value would dominate allocation when reading event files. */
const SCRATCH_BYTES = new Uint8Array(8);
const SCRATCH_VIEW = new DataView(SCRATCH_BYTES.buffer);

/** 2^32, to assemble 64-bit varints from two 32-bit halves without bigint. */
const TWO_POW_32 = 4294967296;

/**
 * The fields of one message, in wire order. Unknown fields are the caller's to ignore; groups (wire types 3/4)
 * are skipped whole. Throws `ProtobufError` on malformed input; every step consumes at least one byte, so it
 * always terminates.
 */
export function* protoFields(bytes: Uint8Array): Generator<ProtoField, void, undefined> {
  const cursor = { pos: 0 };
  const groups: number[] = [];
  while (cursor.pos < bytes.length) {
    const tagOffset = cursor.pos;
    const tag = readVarint(bytes, cursor);
    if (tag < 0 || tag >= TWO_POW_32) {
      throw new ProtobufError(`tag ${tag} out of range`, tagOffset);
    }
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 0 || field > MAX_FIELD_NUMBER) {
      throw new ProtobufError(`invalid field number ${field}`, tagOffset);
    }
    if (wireType === 3) {
      if (groups.length >= MAX_GROUP_DEPTH) {
        throw new ProtobufError('groups nested too deeply', tagOffset);
      }
      groups.push(field);
      continue;
    }
    if (wireType === 4) {
      if (groups.pop() !== field) {
        throw new ProtobufError(`unmatched end of group ${field}`, tagOffset);
      }
      continue;
    }
    const parsed = readValue(bytes, cursor, field, wireType, tagOffset);
    if (groups.length === 0) {
      yield parsed;
    }
  }
  if (groups.length > 0) {
    throw new ProtobufError('unterminated group', bytes.length);
  }
}

/** Decodes one varint starting at `cursor.pos` and advances the cursor. Signed int64 reading, see `ProtoVarintField`. */
export function readVarint(bytes: Uint8Array, cursor: { pos: number }): number {
  const start = cursor.pos;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (cursor.pos >= bytes.length) {
      throw new ProtobufError('truncated varint', start);
    }
    const b = bytes[cursor.pos++]!;
    const bits = b & 0x7f;
    if (i < 4) {
      lo |= bits << (7 * i);
    } else if (i === 4) {
      lo |= (bits & 0x0f) << 28;
      hi |= bits >>> 4;
    } else {
      hi |= bits << (7 * i - 32);
    }
    if ((b & 0x80) === 0) {
      return (hi | 0) * TWO_POW_32 + (lo >>> 0);
    }
  }
  throw new ProtobufError('varint longer than 10 bytes', start);
}

/** Little-endian IEEE 754 double from an 8-byte fixed64 field. */
export function fixed64ToDouble(bytes: Uint8Array): number {
  if (bytes.length < 8) {
    throw new ProtobufError(`fixed64 needs 8 bytes, got ${bytes.length}`, 0);
  }
  SCRATCH_BYTES.set(bytes.subarray(0, 8));
  return SCRATCH_VIEW.getFloat64(0, true);
}

/** Little-endian IEEE 754 float from a 4-byte fixed32 field. */
export function fixed32ToFloat(bytes: Uint8Array): number {
  if (bytes.length < 4) {
    throw new ProtobufError(`fixed32 needs 4 bytes, got ${bytes.length}`, 0);
  }
  SCRATCH_BYTES.set(bytes.subarray(0, 4));
  return SCRATCH_VIEW.getFloat32(0, true);
}

/** A packed `repeated float` (or raw little-endian float32 content). Throws when the length is not a multiple of 4. */
export function packedFloats(bytes: Uint8Array): number[] {
  return packedFixed(bytes, 4);
}

/** A packed `repeated double` (or raw little-endian float64 content). Throws when the length is not a multiple of 8. */
export function packedDoubles(bytes: Uint8Array): number[] {
  return packedFixed(bytes, 8);
}

/** A packed `repeated int32/int64/enum/bool`. */
export function packedVarints(bytes: Uint8Array): number[] {
  const cursor = { pos: 0 };
  const out: number[] = [];
  while (cursor.pos < bytes.length) {
    out.push(readVarint(bytes, cursor));
  }
  return out;
}

/** Strict UTF-8 decoding of a `string` field; invalid UTF-8 is a protobuf error, as the spec requires. */
export function protoString(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch (err) {
    throw new ProtobufError('invalid UTF-8 in string field', 0, { cause: err });
  }
}

// --- internal ---

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function readValue(bytes: Uint8Array, cursor: { pos: number }, field: number, wireType: number, tagOffset: number): ProtoField {
  switch (wireType) {
    case 0:
      return { field, wireType: 0, value: readVarint(bytes, cursor) };
    case 1:
      return { field, wireType: 1, bytes: take(bytes, cursor, 8, tagOffset) };
    case 5:
      return { field, wireType: 5, bytes: take(bytes, cursor, 4, tagOffset) };
    case 2: {
      const length = readVarint(bytes, cursor);
      if (length < 0) {
        throw new ProtobufError(`negative length ${length}`, tagOffset);
      }
      return { field, wireType: 2, bytes: take(bytes, cursor, length, tagOffset) };
    }
    default:
      throw new ProtobufError(`unknown wire type ${wireType}`, tagOffset);
  }
}

function take(bytes: Uint8Array, cursor: { pos: number }, length: number, tagOffset: number): Uint8Array {
  if (length > bytes.length - cursor.pos) {
    throw new ProtobufError(`field needs ${length} bytes, ${bytes.length - cursor.pos} left`, tagOffset);
  }
  const out = bytes.subarray(cursor.pos, cursor.pos + length);
  cursor.pos += length;
  return out;
}

function packedFixed(bytes: Uint8Array, width: 4 | 8): number[] {
  if (bytes.length % width !== 0) {
    throw new ProtobufError(`packed length ${bytes.length} is not a multiple of ${width}`, 0);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += width) {
    out.push(width === 4 ? view.getFloat32(i, true) : view.getFloat64(i, true));
  }
  return out;
}
