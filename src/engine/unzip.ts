import { chmod, mkdir, open, symlink, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { EngineError } from '../errors.ts';

/**
 * The end-of-central-directory record sits in the last 22 bytes plus an optional comment of at most
 * 64 KiB, so this much of the tail always contains it.
 */
const EOCD_SEARCH_BYTES = 22 + 0xffff;

/** Unix file type bits in the high half of a zip entry's external attributes. */
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/**
 * Extracts a zip archive into `destDir`, keeping Unix permission bits (Elasticsearch's `bin/` scripts
 * must stay executable). Pure Node, so a fresh machine needs neither `unzip` nor a JDK's `jar`:
 * a JRE is enough. Supports stored and deflated entries; zip64 archives are refused.
 */
export async function extractZip(zipFile: string, destDir: string): Promise<void> {
  const handle = await open(zipFile, 'r');
  try {
    const entries = await readCentralDirectory(handle, zipFile);
    await mkdir(destDir, { recursive: true });
    for (const entry of entries) {
      await extractEntry(handle, entry, destDir, zipFile);
    }
  } finally {
    await handle.close();
  }
}

// --- internal ---

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  /** Unix mode when the archive was made on Unix, else null. */
  mode: number | null;
}

async function readCentralDirectory(handle: FileHandle, zipFile: string): Promise<ZipEntry[]> {
  const { size } = await handle.stat();
  const tailLength = Math.min(size, EOCD_SEARCH_BYTES);
  const tail = await readAt(handle, size - tailLength, tailLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new EngineError('engine-download-failed', `[unzip] ${zipFile}: no end of central directory`);
  }
  const count = tail.readUInt16LE(eocd + 10);
  const dirSize = tail.readUInt32LE(eocd + 12);
  const dirOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || dirOffset === 0xffffffff) {
    throw new EngineError('engine-download-failed', `[unzip] ${zipFile}: zip64 archives are not supported`);
  }
  const dir = await readAt(handle, dirOffset, dirSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (dir.readUInt32LE(p) !== 0x02014b50) {
      throw new EngineError('engine-download-failed', `[unzip] ${zipFile}: corrupt central directory`);
    }
    const madeBy = dir.readUInt16LE(p + 4) >> 8;
    const nameLength = dir.readUInt16LE(p + 28);
    const extraLength = dir.readUInt16LE(p + 30);
    const commentLength = dir.readUInt16LE(p + 32);
    const external = dir.readUInt32LE(p + 38);
    entries.push({
      name: dir.toString('utf8', p + 46, p + 46 + nameLength),
      method: dir.readUInt16LE(p + 10),
      compressedSize: dir.readUInt32LE(p + 20),
      size: dir.readUInt32LE(p + 24),
      localHeaderOffset: dir.readUInt32LE(p + 42),
      mode: madeBy === 3 ? external >>> 16 : null,
    });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

async function extractEntry(handle: FileHandle, entry: ZipEntry, destDir: string, zipFile: string): Promise<void> {
  const target = path.resolve(destDir, entry.name);
  if (!target.startsWith(path.resolve(destDir) + path.sep)) {
    throw new EngineError('engine-download-failed', `[unzip] ${zipFile}: entry escapes the target: ${entry.name}`);
  }
  const permissions = entry.mode === null ? null : entry.mode & 0o7777;
  if (entry.name.endsWith('/')) {
    await mkdir(target, { recursive: true });
    await chmod(target, permissions ?? 0o755);
    return;
  }
  await mkdir(path.dirname(target), { recursive: true });
  const content = await readEntryData(handle, entry, zipFile);
  if (entry.mode !== null && (entry.mode & S_IFMT) === S_IFLNK) {
    await symlink(content.toString('utf8'), target);
    return;
  }
  await writeFile(target, content);
  await chmod(target, permissions ?? 0o644);
}

async function readEntryData(handle: FileHandle, entry: ZipEntry, zipFile: string): Promise<Buffer> {
  const header = await readAt(handle, entry.localHeaderOffset, 30);
  if (header.readUInt32LE(0) !== 0x04034b50) {
    throw new EngineError('engine-download-failed', `[unzip] ${zipFile}: corrupt local header for ${entry.name}`);
  }
  const dataOffset = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  const raw = await readAt(handle, dataOffset, entry.compressedSize);
  const data = entry.method === 0 ? raw : entry.method === 8 ? inflateRawSync(raw) : null;
  if (data === null || data.length !== entry.size) {
    throw new EngineError('engine-download-failed', `[unzip] ${zipFile}: cannot extract ${entry.name} (method ${entry.method})`);
  }
  return data;
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  if (bytesRead !== length) {
    throw new EngineError('engine-download-failed', `[unzip] short read at ${position}`);
  }
  return buffer;
}
