import { inflateRawSync } from 'node:zlib';

/**
 * Reads entries of a small zip archive held in memory (`torch.save` files: stored entries, 64-byte aligned by
 * padding in the local headers, zip64 end records). src/engine/unzip.ts extracts big archives from disk with
 * engine errors; this one never touches the file system and caps what it inflates.
 */
export interface ZipEntryInfo {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/** A zip archive that cannot be read; the message says what and where. */
export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

/** The entries of the central directory. Throws `ZipError`. */
export function listZip(bytes: Uint8Array): ZipEntryInfo[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = findEocd(view);
  let count = view.getUint16(eocd + 10, true);
  let dirOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || dirOffset === 0xffffffff) {
    ({ count, dirOffset } = zip64End(view, eocd));
  }
  const entries: ZipEntryInfo[] = [];
  let p = dirOffset;
  for (let i = 0; i < count; i++) {
    need(view, p, 46, 'central directory');
    if (view.getUint32(p, true) !== 0x02014b50) {
      throw new ZipError(`corrupt central directory entry at offset ${p}`);
    }
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    need(view, p + 46, nameLength + extraLength, 'central directory');
    const entry: ZipEntryInfo = {
      name: new TextDecoder('utf-8').decode(bytes.subarray(p + 46, p + 46 + nameLength)),
      method: view.getUint16(p + 10, true),
      compressedSize: view.getUint32(p + 20, true),
      size: view.getUint32(p + 24, true),
      localHeaderOffset: view.getUint32(p + 42, true),
    };
    applyZip64Extra(view, p + 46 + nameLength, extraLength, entry);
    entries.push(entry);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The bytes of one entry, at most `maxBytes` once inflated. Throws `ZipError`. */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntryInfo, maxBytes: number): Uint8Array {
  if (entry.size > maxBytes) {
    throw new ZipError(`${entry.name}: ${entry.size} bytes exceeds the ${maxBytes}-byte cap`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = entry.localHeaderOffset;
  need(view, at, 30, entry.name);
  if (view.getUint32(at, true) !== 0x04034b50) {
    throw new ZipError(`${entry.name}: corrupt local header at offset ${at}`);
  }
  // The local header's own lengths: torch pads it (extra field "FB") so the data is 64-byte aligned.
  const dataOffset = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  need(view, dataOffset, entry.compressedSize, entry.name);
  const raw = bytes.subarray(dataOffset, dataOffset + entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === 0) {
    data = raw;
  } else if (entry.method === 8) {
    try {
      data = inflateRawSync(raw, { maxOutputLength: maxBytes });
    } catch (err) {
      throw new ZipError(`${entry.name}: cannot inflate (${err instanceof Error ? err.message : String(err)})`);
    }
  } else {
    throw new ZipError(`${entry.name}: compression method ${entry.method} is not supported`);
  }
  if (data.length !== entry.size) {
    throw new ZipError(`${entry.name}: ${data.length} bytes read, the directory says ${entry.size}`);
  }
  return data;
}

// --- internal ---

const EOCD_SIZE = 22;

function findEocd(view: DataView): number {
  const lowest = Math.max(0, view.byteLength - EOCD_SIZE - 0xffff);
  for (let i = view.byteLength - EOCD_SIZE; i >= lowest; i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      return i;
    }
  }
  throw new ZipError('not a zip archive (no end of central directory)');
}

/** The zip64 end record, found through its locator just before the classic end record. */
function zip64End(view: DataView, eocd: number): { count: number; dirOffset: number } {
  const locator = eocd - 20;
  if (locator < 0 || view.getUint32(locator, true) !== 0x07064b50) {
    throw new ZipError('zip64 archive without a zip64 end locator');
  }
  const end = safeNumber(view.getBigUint64(locator + 8, true));
  need(view, end, 56, 'zip64 end record');
  if (view.getUint32(end, true) !== 0x06064b50) {
    throw new ZipError(`corrupt zip64 end record at offset ${end}`);
  }
  return { count: safeNumber(view.getBigUint64(end + 32, true)), dirOffset: safeNumber(view.getBigUint64(end + 48, true)) };
}

/** Zip64 extended information (id 1): 8-byte values for the fields set to 0xFFFFFFFF, in a fixed order. */
function applyZip64Extra(view: DataView, start: number, length: number, entry: ZipEntryInfo): void {
  let p = start;
  while (p + 4 <= start + length) {
    const id = view.getUint16(p, true);
    const size = view.getUint16(p + 2, true);
    if (id === 0x0001) {
      let q = p + 4;
      for (const field of ['size', 'compressedSize', 'localHeaderOffset'] as const) {
        if (entry[field] === 0xffffffff && q + 8 <= p + 4 + size) {
          entry[field] = safeNumber(view.getBigUint64(q, true));
          q += 8;
        }
      }
    }
    p += 4 + size;
  }
}

function need(view: DataView, offset: number, length: number, what: string): void {
  if (offset < 0 || length < 0 || offset + length > view.byteLength) {
    throw new ZipError(`${what}: ${length} bytes at offset ${offset} lie beyond the ${view.byteLength}-byte archive`);
  }
}

function safeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ZipError(`zip64 value ${value} is too large`);
  }
  return Number(value);
}
