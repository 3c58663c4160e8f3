import { execFile } from 'node:child_process';
import { chmod, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createFsDriver, type FsDriverOptions } from '../../../src/sources/drivers/fs.ts';
import { isWarning, type SourceDriver, type SourceEntry, type SourceWarning } from '../../../src/sources/types.ts';
import { compareKeys } from '../../../src/sources/order.ts';
import { writeTree } from '../../helpers/temp-tree.ts';
import { collect, testStorageDriver, UTF16_TRAP_KEYS, type DriverFixture, type FixtureOptions } from '../../contract/storage-driver.ts';

const FS_DRIVER = fileURLToPath(new URL('../../../src/sources/drivers/fs.ts', import.meta.url));

testStorageDriver('fs', makeFsDriver, () => {
  describe('sources/drivers/fs', () => {
    it('reports a permission-denied sub-folder and lists the rest', async () => {
      const root = await tree({ 'a/x': '1', 'locked/secret': '2', 'z/y': '3' });
      await chmod(path.join(root, 'locked'), 0o000);

      const items = await listUnprivileged(root);

      await chmod(path.join(root, 'locked'), 0o755);
      await rm(root, { recursive: true, force: true });
      expect(items.map((i) => (isWarning(i) ? `${i.code}:${i.key}` : i.key))).toEqual(['a/x', 'permission-denied:locked', 'z/y']);
    });

    it('skips symlinks unless following them', async () => {
      const root = await tree({ 'real/f.txt': 'hello', 'other.txt': 'abc' });
      await symlink('real', path.join(root, 'link'));
      await symlink('other.txt', path.join(root, 'flink'));

      const plain = await keys(createFsDriver({ root }));
      const followed = await collect(createFsDriver({ root, followSymlinks: true }).list(''));

      await rm(root, { recursive: true, force: true });
      expect(plain).toEqual(['other.txt', 'real/f.txt']);
      expect(followed.map((i) => i.key)).toEqual(['flink', 'link/f.txt', 'other.txt', 'real/f.txt']);
      expect(followed.find((i) => i.key === 'flink')).toMatchObject({ size: 3 });
    });

    it('reports a symlink loop once and does not walk it', async () => {
      const root = await tree({ 'a/b/f.txt': 'x' });
      await symlink('../..', path.join(root, 'a', 'b', 'up'));
      await symlink('.', path.join(root, 'a', 'self'));

      const items = await collect(createFsDriver({ root, followSymlinks: true }).list(''), 1_000);

      await rm(root, { recursive: true, force: true });
      expect(items.filter(isWarning).map((w) => `${w.code}:${w.key}`)).toEqual(['symlink-loop:a/self', 'symlink-loop:a/b/up']);
      expect(items.filter((i) => !isWarning(i)).map((i) => i.key)).toEqual(['a/b/f.txt']);
    });

    it('reports a directory removed during the walk as vanished and goes on', async () => {
      // 20 sibling folders: the walk reads a few ahead of where it is, so d15 is still unread when d00 is seen.
      const names = Array.from({ length: 20 }, (_, i) => `d${String(i).padStart(2, '0')}`);
      const root = await tree(Object.fromEntries(names.map((n) => [`${n}/f`, n])));
      const items: (SourceEntry | SourceWarning)[] = [];

      for await (const item of createFsDriver({ root }).list('')) {
        items.push(item);
        if (item.key === 'd00/f') {
          await rm(path.join(root, 'd15'), { recursive: true });
        }
      }

      await rm(root, { recursive: true, force: true });
      expect(items.map((i) => (isWarning(i) ? `${i.code}:${i.key}` : i.key))).toEqual(names.map((n) => (n === 'd15' ? 'vanished:d15' : `${n}/f`)));
    });

    it('reports a file whose stat fails with ENOENT as vanished (dangling symlink, same path as a file deleted after readdir)', async () => {
      const root = await tree({ 'run/a.txt': '1' });
      await symlink('gone.txt', path.join(root, 'run', 'b.txt'));

      const items = await collect(createFsDriver({ root, followSymlinks: true }).list(''));

      await rm(root, { recursive: true, force: true });
      expect(items.map((i) => (isWarning(i) ? `${i.code}:${i.key}` : i.key))).toEqual(['vanished:run/b.txt', 'run/a.txt']);
    });

    it('lists keys whose UTF-16 order differs in UTF-8 byte order', async () => {
      const { driver, cleanup } = await makeFsDriver(Object.fromEntries(UTF16_TRAP_KEYS.map((key) => [key, key])));

      const listed = await keys(driver);

      await cleanup();
      expect(listed).toEqual([...UTF16_TRAP_KEYS].sort(compareKeys));
      expect(listed).not.toEqual([...UTF16_TRAP_KEYS].sort());
    });

    it.each(['auto', 'sync', 'async'] as const)('lists nothing under a prefix that does not exist, and refuses a prefix that is a file (io %s)', async (io) => {
      const root = await tree({ 'run/a.txt': '1' });
      const driver = createFsDriver({ root, io });

      const missing = await collect(driver.list('run/logs'));
      const deeper = await collect(driver.list('nope/deeper'));
      const file = collect(driver.list('run/a.txt'));

      await expect(file).rejects.toMatchObject({ code: 'storage-list-failed' });
      await rm(root, { recursive: true, force: true });
      expect([missing, deeper]).toEqual([[], []]);
    });

    it('throws storage-list-failed when the root itself is missing', async () => {
      const driver = createFsDriver({ root: path.join(os.tmpdir(), `lora-catalog-missing-${process.pid}`) });

      await expect(collect(driver.list(''))).rejects.toMatchObject({ code: 'storage-list-failed' });
    });
  });
});

// --- internal ---

async function makeFsDriver(files: Record<string, Uint8Array | string>, opts: FixtureOptions = {}): Promise<DriverFixture> {
  const root = await tree(files);
  return {
    driver: createFsDriver({ root, ...opts } satisfies FsDriverOptions),
    cleanup: async () => rm(root, { recursive: true, force: true }),
  };
}

function tree(files: Record<string, Uint8Array | string>): Promise<string> {
  return writeTree(files, 'lora-catalog-fs-');
}

async function keys(driver: SourceDriver): Promise<string[]> {
  return (await collect(driver.list(''))).map((i) => i.key);
}

/**
 * Root ignores mode bits, so as root the listing runs in a child process as `nobody`
 * (setpriv drops uid, gid and supplementary groups); otherwise in-process.
 */
async function listUnprivileged(root: string): Promise<(SourceEntry | SourceWarning)[]> {
  if (process.getuid?.() !== 0) {
    return collect(createFsDriver({ root }).list(''));
  }
  await openUpFor(root);
  const script = `
    import { createFsDriver } from ${JSON.stringify(FS_DRIVER)};
    const out = [];
    for await (const item of createFsDriver({ root: ${JSON.stringify(root)} }).list('')) out.push(item);
    process.stdout.write(JSON.stringify({ uid: process.getuid(), out }));
  `;
  const args = ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '--input-type=module', '-e', script];
  const { stdout } = await promisify(execFile)('setpriv', args, { cwd: os.tmpdir() });
  const parsed = JSON.parse(stdout) as { uid: number; out: (SourceEntry | SourceWarning)[] };
  expect(parsed.uid).not.toBe(0);
  return parsed.out;
}

/** mkdtemp makes 0700 dirs; `nobody` needs to traverse the temp root and read the tree. */
async function openUpFor(root: string): Promise<void> {
  await chmod(root, 0o755);
  for (const dir of ['a', 'z']) {
    await chmod(path.join(root, dir), 0o755);
  }
}
