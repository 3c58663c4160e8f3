// File names are bytes on POSIX filesystems, keys are strings. A name that is not valid UTF-8 (Latin-1
// archives, a Windows share mounted without iocharset) must still map to one key that reads back the
// same file, or the run is unreadable and its root's listing is never complete.
//
// The mapping: valid UTF-8 stays as it is; every byte that is not part of a valid UTF-8 sequence
// becomes `%XX` (upper-case hex), and `%` itself becomes `%25`, so the mapping is reversible. Only
// `%25` and `%80`–`%FF` are ever unescaped: an escape can never produce `/`, `.` or NUL, so an
// escaped key cannot reach outside the root.
import path from 'node:path';
import { TextDecoder } from 'node:util';

/** `%` followed by an escape this module writes: `%25` or a byte >= 0x80. */
const ESCAPE = /%(25|[89A-F][0-9A-F])/g;

/** The key segment of one directory entry name (raw bytes from `readdir(…, { encoding: 'buffer' })`). */
export function nameToKey(name: Buffer): string {
  const text = name.toString('utf8');
  // Fast path: no replacement character means the bytes were valid UTF-8 (the common case).
  if (!text.includes('\uFFFD')) {
    return text.includes('%') ? text.replaceAll('%', '%25') : text;
  }
  return escapeBytes(name);
}

/** The bytes of a key segment or key (the inverse of nameToKey, applied per segment). */
export function keyToBytes(key: string): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  for (const match of key.matchAll(ESCAPE)) {
    parts.push(Buffer.from(key.slice(last, match.index), 'utf8'), Buffer.from([Number.parseInt(match[1] as string, 16)]));
    last = match.index + match[0].length;
  }
  parts.push(Buffer.from(key.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

/**
 * The filesystem path of a key under `root`: a plain string when the key has no escapes (no
 * allocation beyond the concatenation), else the raw bytes as a Buffer (Node's fs accepts both).
 */
export function keyPath(root: string, key: string): string | Buffer {
  if (!key.includes('%')) {
    return key === '' ? root : `${root}/${key}`;
  }
  return Buffer.concat([Buffer.from(`${root}/`), keyToBytes(key)]);
}

/** Like keyPath, for keys from outside the walk: normalised, and refused (null) when they escape the root. */
export function resolveKeyPath(root: string, key: string): string | Buffer | null {
  const abs = path.resolve(root, key);
  const base = root.endsWith(path.sep) ? root : root + path.sep;
  if (abs !== root && !abs.startsWith(base)) {
    return null;
  }
  return abs === root ? root : keyPath(base.slice(0, -1), abs.slice(base.length));
}

// --- internal ---

/** Slow path: valid UTF-8 sequences are kept, every other byte becomes %XX. */
function escapeBytes(name: Buffer): string {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let out = '';
  let i = 0;
  while (i < name.length) {
    const byte = name[i] as number;
    if (byte < 0x80) {
      out += byte === 0x25 ? '%25' : String.fromCharCode(byte);
      i += 1;
      continue;
    }
    const len = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 0;
    const seq = len > 0 && i + len <= name.length ? decodeOne(decoder, name.subarray(i, i + len)) : null;
    if (seq === null) {
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
      i += 1;
      continue;
    }
    out += seq;
    i += len;
  }
  return out;
}

function decodeOne(decoder: TextDecoder, bytes: Uint8Array): string | null {
  try {
    const text = decoder.decode(bytes);
    // A real U+FFFD in the name is valid UTF-8 (EF BF BD) and decodes fine; a fatal decoder never substitutes.
    return [...text].length === 1 ? text : null;
  } catch {
    return null;
  }
}
