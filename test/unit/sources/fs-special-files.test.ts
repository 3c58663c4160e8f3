import { execFile, spawn } from 'node:child_process';
import { rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createFsDriver } from '../../../src/sources/drivers/fs.ts';
import { keyToBytes, nameToKey } from '../../../src/sources/fs-names.ts';
import { isWarning } from '../../../src/sources/types.ts';
import { collect } from '../../contract/storage-driver.ts';
import { tempTrees } from '../../helpers/temp-tree.ts';

const run = promisify(execFile);
const { tree, cleanup } = tempTrees('lora-catalog-fs-special-');
const FS_READ = fileURLToPath(new URL('../../../src/sources/fs-read.ts', import.meta.url));

afterEach(cleanup);

describe('sources/drivers/fs special files', () => {
  it('does not list a FIFO behind a followed symlink', async () => {
    const root = await tree({ 'run/config.yaml': 'a: 1' });
    await run('mkfifo', [path.join(root, 'run', 'pipe')]);
    await symlink('pipe', path.join(root, 'run', 'train.log'));

    const items = await collect(createFsDriver({ root, followSymlinks: true }).list(''));

    expect(items.map((i) => i.key)).toEqual(['run/config.yaml']);
  });

  const reads = [
    ['read', (d: ReturnType<typeof createFsDriver>) => d.read('run/config.yaml')],
    ['small ranged read', (d: ReturnType<typeof createFsDriver>) => d.read('run/config.yaml', { start: 0, end: 5 })],
  ] as const;
  it.each((['sync', 'async'] as const).flatMap((io) => reads.map(([label, readIt]) => [io, label, readIt] as const)))(
    'io %s: %s of a config swapped for a FIFO after the listing fails fast instead of blocking',
    async (io, _label, readIt) => {
      const root = await tree({ 'run/config.yaml': 'a: 1' });
      const driver = createFsDriver({ root, io });
      await collect(driver.list(''));
      await run('mkfifo', [path.join(root, 'run', 'fifo')]);
      await rename(path.join(root, 'run', 'fifo'), path.join(root, 'run', 'config.yaml'));

      const started = Date.now();
      const outcome = await readIt(driver).then(
        () => 'read',
        (err: { code?: string; message: string }) => `${err.code} ${err.message}`,
      );

      expect(Date.now() - started).toBeLessThan(2000);
      expect(outcome).toBe('storage-read-failed [fs] read run/config.yaml: not a regular file');
    },
  );

  it('streams nothing from a FIFO swapped in after the listing', async () => {
    const root = await tree({ 'run/train.log': 'line\n' });
    await run('mkfifo', [path.join(root, 'run', 'fifo')]);
    await rename(path.join(root, 'run', 'fifo'), path.join(root, 'run', 'train.log'));

    const stream = await createFsDriver({ root }).stream('run/train.log');

    expect(stream).toBeNull();
  });

  it.each(['sync', 'async'] as const)('io %s: reads a small file whole with a range of its listed size + 1, and only the range of a larger one', async (io) => {
    const root = await tree({ 'small.txt': 'hello', 'big.bin': Buffer.alloc(600 * 1024, 7) });
    const driver = createFsDriver({ root, io });

    const small = await driver.read('small.txt', { start: 0, end: 6 });
    const slice = await driver.read('big.bin', { start: 600 * 1024 - 3, end: 700 * 1024 });
    const whole = await driver.read('big.bin');

    expect(Buffer.from(small ?? []).toString()).toBe('hello');
    expect(slice?.length).toBe(3);
    expect(whole?.length).toBe(600 * 1024);
  });

  it.each(['sync', 'async'] as const)('io %s: refuses a symlinked file when not following links (it is not in the listing either)', async (io) => {
    const root = await tree({ 'real.txt': 'x' });
    await symlink('real.txt', path.join(root, 'link.txt'));

    expect(await createFsDriver({ root, io }).read('link.txt', { start: 0, end: 2 })).toBeNull();
    expect(Buffer.from((await createFsDriver({ root, io, followSymlinks: true }).read('link.txt', { start: 0, end: 2 })) ?? []).toString()).toBe('x');
  });

  it('times a read out when the thread pool is stuck, and names the file', async () => {
    const root = await tree({ 'run/config.yaml': 'a: 1' });
    const fifo = path.join(root, 'stuck');
    await run('mkfifo', [fifo]);
    // One thread-pool thread, blocked by a plain (blocking) open of a FIFO: every later read queues behind it.
    const script = `
      import { open } from 'node:fs';
      import { readFileBytes } from ${JSON.stringify(FS_READ)};
      open(${JSON.stringify(fifo)}, 'r', () => {});
      const started = Date.now();
      readFileBytes(${JSON.stringify(path.join(root, 'run/config.yaml'))}, 'run/config.yaml', { start: 0, end: 5 }, { noFollow: true, timeoutMs: 300, sync: false })
        .then(() => console.log('read'), (err) => console.log(JSON.stringify({ code: err.code, message: err.message, ms: Date.now() - started })));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, UV_THREADPOOL_SIZE: '1' } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      // Free the stuck thread so the child can exit: opening the FIFO's write end completes the blocked open.
      void writeFile(fifo, '');
    });
    await new Promise((resolve) => child.on('exit', resolve));

    const result = JSON.parse(out.trim()) as { code: string; message: string; ms: number };
    expect(result.code).toBe('storage-read-timeout');
    expect(result.message).toContain('run/config.yaml: read timed out');
    expect(result.ms).toBeLessThan(2000);
  });
});

describe('sources/fs-names', () => {
  it.each([
    ['plain.txt', 'plain.txt'],
    ['100%.txt', '100%25.txt'],
    ['caf\u00e9.txt', 'caf\u00e9.txt'],
    ['\uFFFD real replacement char', '\uFFFD real replacement char'],
  ])('keeps valid UTF-8 %j (escaping only %)', (name, key) => {
    expect(nameToKey(Buffer.from(name))).toBe(key);
    expect(keyToBytes(key).toString()).toBe(name);
  });

  it('escapes bytes that are not UTF-8 and reads them back to the same bytes', () => {
    const name = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from('%'), Buffer.from([0xff, 0xc3]), Buffer.from('\u00e9.log')]);

    const key = nameToKey(name);

    expect(key).toBe('caf%E9%25%FF%C3\u00e9.log');
    expect(keyToBytes(key).equals(name)).toBe(true);
  });

  it('never unescapes to a path separator or a dot', () => {
    expect(keyToBytes('%2F%2E%2E').toString()).toBe('%2F%2E%2E');
  });
});

describe('sources/drivers/fs non-UTF-8 names', () => {
  it.each(['sync', 'async'] as const)('io %s: lists a non-UTF-8 file name without a warning and reads it back by its key', async (io) => {
    const root = await tree({ 'run/config.yaml': 'a: 1' });
    const raw = Buffer.concat([Buffer.from(`${root}/run/`), Buffer.from([0x6c, 0x6f, 0x67, 0xe9, 0x2e, 0x74, 0x78, 0x74])]);
    await writeFile(raw, 'latin-1 name');
    const driver = createFsDriver({ root, io });

    const items = await collect(driver.list(''));
    const stat = await driver.stat('run/log%E9.txt');
    const bytes = await driver.read('run/log%E9.txt', { start: 0, end: 100 });

    expect(items.filter(isWarning)).toEqual([]);
    expect(items.map((i) => i.key)).toEqual(['run/config.yaml', 'run/log%E9.txt']);
    expect(stat).toMatchObject({ key: 'run/log%E9.txt', size: 12 });
    expect(Buffer.from(bytes ?? []).toString()).toBe('latin-1 name');
  });

  it('lists the same keys from the walk worker', async () => {
    const root = await tree({ 'a.txt': 'x' });
    await writeFile(Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0xff])]), 'y');

    const items = await collect(createFsDriver({ root, walkInWorker: true }).list(''));

    expect(items.map((i) => (isWarning(i) ? `warning:${i.key}` : i.key))).toEqual(['%FF', 'a.txt']);
  });
});
