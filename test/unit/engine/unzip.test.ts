import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractZip } from '../../../src/engine/unzip.ts';

interface Entry {
  name: string;
  data: string;
  /** Unix mode incl. file type bits, stored in the high half of the external attributes. */
  mode: number;
  deflate: boolean;
}

let dir = '';

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'unzip-test-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('engine/unzip', () => {
  it('extracts stored and deflated entries and keeps Unix permissions', async () => {
    const zip = await writeZip('a.zip', [
      { name: 'top/bin/', data: '', mode: 0o40755, deflate: false },
      { name: 'top/bin/run', data: '#!/bin/sh\necho hi\n', mode: 0o100755, deflate: true },
      { name: 'top/conf.yml', data: 'a: 1\n'.repeat(100), mode: 0o100640, deflate: true },
      { name: 'top/raw.txt', data: 'stored', mode: 0o100644, deflate: false },
    ]);
    const out = path.join(dir, 'out');

    await extractZip(zip, out);

    expect(await readFile(path.join(out, 'top/bin/run'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect((await stat(path.join(out, 'top/bin/run'))).mode & 0o777).toBe(0o755);
    expect((await stat(path.join(out, 'top/conf.yml'))).mode & 0o777).toBe(0o640);
    expect(await readFile(path.join(out, 'top/conf.yml'), 'utf8')).toBe('a: 1\n'.repeat(100));
    expect(await readFile(path.join(out, 'top/raw.txt'), 'utf8')).toBe('stored');
  });

  it('refuses entries that escape the target folder', async () => {
    const zip = await writeZip('evil.zip', [{ name: '../evil.txt', data: 'x', mode: 0o100644, deflate: false }]);

    const error = await extractZip(zip, path.join(dir, 'out')).catch((err: unknown) => err);

    expect(error).toMatchObject({ code: 'engine-download-failed' });
  });
});

// --- internal ---

/** A minimal zip writer (local headers, central directory, end record), "made by" Unix. */
async function writeZip(name: string, entries: Entry[]): Promise<string> {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const raw = Buffer.from(entry.data);
    const body = entry.deflate ? deflateRawSync(raw) : raw;
    const fileName = Buffer.from(entry.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(entry.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc32(raw), 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(entry.deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc32(raw), 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(fileName.length, 28);
    central.writeUInt32LE((entry.mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fileName, body);
    centrals.push(central, fileName);
    offset += local.length + fileName.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  const file = path.join(dir, name);
  await writeFile(file, Buffer.concat([...locals, directory, end]));
  return file;
}
