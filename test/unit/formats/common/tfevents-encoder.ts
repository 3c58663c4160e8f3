import { maskedCrc32c } from '../../../../src/formats/common/crc32c.ts';

/** How a test scalar is written: TF1/PyTorch `simple_value`, or a TF2-style scalar tensor. */
export type ScalarEncoding = 'simple' | 'float_val' | 'float_content' | 'double_val' | 'double_content';

export interface EventSpec {
  wallTime?: number;
  step?: number;
  fileVersion?: string;
  values?: ValueSpec[];
}

export interface ValueSpec {
  tag: string;
  value: number;
  encoding?: ScalarEncoding;
  pluginName?: string;
}

/** A protobuf field as raw wire bytes (test encoder; no validation). */
export function varintBytes(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) {
      b |= 0x80;
    }
    out.push(b);
  } while (v > 0n);
  return out;
}

export function tagBytes(field: number, wireType: number): number[] {
  return varintBytes(field * 8 + wireType);
}

export function varintField(field: number, value: number | bigint): number[] {
  return [...tagBytes(field, 0), ...varintBytes(value)];
}

export function bytesField(field: number, bytes: ArrayLike<number>): number[] {
  return [...tagBytes(field, 2), ...varintBytes(bytes.length), ...Array.from(bytes)];
}

export function doubleField(field: number, value: number): number[] {
  return [...tagBytes(field, 1), ...f64(value)];
}

export function floatField(field: number, value: number): number[] {
  return [...tagBytes(field, 5), ...f32(value)];
}

export function stringField(field: number, value: string): number[] {
  return bytesField(field, new TextEncoder().encode(value));
}

export function f32(value: number): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, value, true);
  return Array.from(b);
}

export function f64(value: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, value, true);
  return Array.from(b);
}

/** tensorflow.Event wire bytes. */
export function encodeEvent(spec: EventSpec): Uint8Array {
  const out: number[] = [];
  out.push(...doubleField(1, spec.wallTime ?? 0));
  if (spec.step !== undefined) {
    out.push(...varintField(2, spec.step));
  }
  if (spec.fileVersion !== undefined) {
    out.push(...stringField(3, spec.fileVersion));
  }
  if (spec.values !== undefined) {
    out.push(
      ...bytesField(
        5,
        spec.values.flatMap((v) => bytesField(1, encodeValue(v))),
      ),
    );
  }
  return Uint8Array.from(out);
}

/** One TFRecord frame around `data`. */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** A whole event file: a file_version record, then one record per spec. */
export function encodeEventFile(events: EventSpec[], fileVersion = 'brain.Event:2'): Uint8Array {
  return concat([frameRecord(encodeEvent({ wallTime: 1_700_000_000, fileVersion })), ...events.map((e) => frameRecord(encodeEvent(e)))]);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Feeds `bytes` as chunks of `size` bytes (the last one shorter). */
export async function* chunked(bytes: Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) {
    yield bytes.slice(i, i + size);
  }
}

// --- internal ---

function encodeValue(v: ValueSpec): number[] {
  const out = stringField(1, v.tag);
  const encoding = v.encoding ?? 'simple';
  if (encoding === 'simple') {
    out.push(...floatField(2, v.value));
  } else {
    out.push(...bytesField(8, encodeTensor(v.value, encoding)));
  }
  if (v.pluginName !== undefined) {
    out.push(...bytesField(9, bytesField(1, stringField(1, v.pluginName))));
  }
  return out;
}

function encodeTensor(value: number, encoding: Exclude<ScalarEncoding, 'simple'>): number[] {
  const isFloat = encoding === 'float_val' || encoding === 'float_content';
  const out = varintField(1, isFloat ? 1 : 2);
  out.push(...bytesField(2, []));
  if (encoding === 'float_val') {
    out.push(...bytesField(5, f32(value)));
  } else if (encoding === 'double_val') {
    out.push(...bytesField(6, f64(value)));
  } else {
    out.push(...bytesField(4, isFloat ? f32(value) : f64(value)));
  }
  return out;
}
