// node bench/fs-read.ts <dir> [--concurrency 8] [--rounds 3]
// Reads every file of a tree the way the parsers read configs and JSON states (whole file, size from
// the listing), one thread, warm cache: the previous read path (FileHandle open + fstat + read +
// close) against the driver's (one open with O_NONBLOCK + one read of listed size + 1 + close), through
// the thread pool (network filesystems) and as plain system calls (local disks, the `auto` default there).
// Make a tree with `python3 ../shared/perf/gen_seed_corpus.py /var/tmp/seed-10k 10000` (20,000 files).
import { open } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createFsDriver } from '../src/sources/drivers/fs.ts';
import { isWarning, type SourceEntry } from '../src/sources/types.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { concurrency: { type: 'string', default: '8' }, rounds: { type: 'string', default: '3' } },
});
const root = positionals[0];
if (!root) {
  throw new Error('usage: node bench/fs-read.ts <dir> [--concurrency 8] [--rounds 3]');
}
const concurrency = Number(values.concurrency);
const driver = createFsDriver({ root });
const asyncDriver = createFsDriver({ root, io: 'async' });
const syncDriver = createFsDriver({ root, io: 'sync' });
const entries: SourceEntry[] = [];
for await (const item of driver.list('')) {
  if (!isWarning(item)) {
    entries.push(item);
  }
}

const methods = {
  'FileHandle + fstat (before)': async (entry: SourceEntry) => {
    const handle = await open(`${root}/${entry.key}`, 'r');
    try {
      const size = (await handle.stat()).size;
      const buf = Buffer.alloc(Math.min(size, entry.size + 1));
      await handle.read(buf, 0, buf.length, 0);
      return buf.length;
    } finally {
      await handle.close();
    }
  },
  'driver, io async (network fs)': async (entry: SourceEntry) => (await asyncDriver.read(entry.key, { start: 0, end: entry.size + 1 }))?.length ?? 0,
  'driver, io sync (local disk)': async (entry: SourceEntry) => (await syncDriver.read(entry.key, { start: 0, end: entry.size + 1 }))?.length ?? 0,
};

process.stdout.write(`${entries.length} files, concurrency ${concurrency}\n`);
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [name, readOne] of Object.entries(methods)) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    let bytes = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < entries.length) {
          const n = await readOne(entries[next++] as SourceEntry);
          bytes += n;
        }
      }),
    );
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    process.stdout.write(
      `${name.padEnd(30)} ${ms.toFixed(0).padStart(6)} ms wall  ${((used.user + used.system) / 1000).toFixed(0).padStart(6)} ms cpu (main thread + pool)  ${((ms * 1000) / entries.length).toFixed(1)} µs/file  ${(bytes / 1e6).toFixed(1)} MB\n`,
    );
  }
}
