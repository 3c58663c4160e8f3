import type { ByteRange } from '../../sources/types.ts';
import { JsonText } from '../../text/tolerant-json.ts';

export type SafetensorsErrorCode = 'not-found' | 'lfs-pointer' | 'too-small' | 'absurd-length' | 'truncated' | 'bad-utf8' | 'bad-json' | 'bad-header';

export type SafetensorsHeaderResult =
  | {
      ok: true;
      /** `__metadata__` (kohya `ss_*`, `modelspec.*`, `sshs_*`); null when absent. Non-string values are JSON-stringified. */
      metadata: Record<string, string> | null;
      /** Entries of the header other than `__metadata__`. */
      tensorCount: number;
      /** N, the JSON header's length in bytes (the file's first 8 + N bytes are the header). */
      headerBytes: number;
    }
  | { ok: false; code: SafetensorsErrorCode; message: string };

export interface SafetensorsHeaderOptions {
  /** Largest accepted JSON header, in bytes. Default 100 MiB, the limit of the reference implementation. */
  maxHeaderBytes?: number;
}

/** A driver-style ranged read: the bytes in [start, end), or null when the object does not exist. */
export type RangeReader = (range: ByteRange) => Promise<Uint8Array | null>;

/** The safetensors crate refuses headers above 100 MB (`MAX_HEADER_SIZE`). */
export const DEFAULT_MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** First request size: covers LFS pointers and most kohya headers in one round trip. */
const PROBE_BYTES = 64 * 1024;

/** Git LFS pointer files start with this line instead of the data. */
const LFS_PREFIX = 'version https://git-lfs.github.com/spec/v1';

/**
 * Reads and parses the JSON header of a `.safetensors` file of `size` bytes with one or two ranged reads.
 * Never throws for bad content (it returns `{ ok: false, code }`); errors thrown by `read` (storage failures)
 * propagate.
 */
export async function readSafetensorsHeader(read: RangeReader, size: number, opts: SafetensorsHeaderOptions = {}): Promise<SafetensorsHeaderResult> {
  const maxHeaderBytes = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const probe = await readExactly(read, 0, Math.min(size, PROBE_BYTES));
  if (probe === null) {
    return fail('not-found', 'file does not exist');
  }
  if (startsWithAscii(probe, LFS_PREFIX)) {
    return fail('lfs-pointer', 'file is a Git LFS pointer, not the data');
  }
  if (size < 8 || probe.length < 8) {
    return fail('too-small', `file of ${size} bytes has no 8-byte header length`);
  }
  const view = new DataView(probe.buffer, probe.byteOffset, 8);
  const high = view.getUint32(4, true);
  const length = high * 0x100000000 + view.getUint32(0, true);
  if (high >= 0x200000 || length > maxHeaderBytes) {
    return fail('absurd-length', `header length ${length} exceeds limit of ${maxHeaderBytes} bytes`);
  }
  if (8 + length > size) {
    return fail('truncated', `header length ${length} runs past the end of a ${size}-byte file`);
  }
  const header = await headerBytes(read, probe, length);
  if (header === null) {
    return fail('truncated', `file shrank while reading its ${length}-byte header`);
  }
  return parseHeader(header);
}

// --- internal ---

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

async function headerBytes(read: RangeReader, probe: Uint8Array, length: number): Promise<Uint8Array | null> {
  if (probe.length >= 8 + length) {
    return probe.subarray(8, 8 + length);
  }
  const rest = await readExactly(read, probe.length, 8 + length);
  if (rest === null || rest.length < 8 + length - probe.length) {
    return null;
  }
  const out = new Uint8Array(length);
  out.set(probe.subarray(8));
  out.set(rest, probe.length - 8);
  return out;
}

function parseHeader(bytes: Uint8Array): SafetensorsHeaderResult {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return fail('bad-utf8', 'header is not valid UTF-8');
  }
  if (!text.startsWith('{')) {
    return fail('bad-header', 'header does not start with "{"');
  }
  const parsed = JsonText.safeParse(text);
  if (!parsed.success) {
    return fail('bad-json', `header is not JSON: ${parsed.error.issues[0]?.message ?? ''}`);
  }
  if (!isObject(parsed.data)) {
    return fail('bad-header', 'header is not a JSON object');
  }
  const { __metadata__: raw, ...tensors } = parsed.data;
  return { ok: true, metadata: toMetadata(raw), tensorCount: Object.keys(tensors).length, headerBytes: bytes.length };
}

function toMetadata(raw: unknown): Record<string, string> | null {
  if (!isObject(raw)) {
    return null;
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    // Civitai and other tools re-serialise e.g. ss_tag_frequency as an object; keep it as the JSON text kohya writes.
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    Object.defineProperty(out, key, { value: text ?? String(value), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A read that must return exactly [start, end); a short answer means the file shrank (null). */
async function readExactly(read: RangeReader, start: number, end: number): Promise<Uint8Array | null> {
  if (end <= start) {
    return new Uint8Array(0);
  }
  const bytes = await read({ start, end });
  if (bytes === null) {
    return null;
  }
  return bytes.length >= end - start ? bytes.subarray(0, end - start) : bytes;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(code: SafetensorsErrorCode, message: string): SafetensorsHeaderResult {
  return { ok: false, code, message };
}

function startsWithAscii(bytes: Uint8Array, prefix: string): boolean {
  if (bytes.length < prefix.length) {
    return false;
  }
  for (let i = 0; i < prefix.length; i++) {
    if (bytes[i] !== prefix.charCodeAt(i)) {
      return false;
    }
  }
  return true;
}
