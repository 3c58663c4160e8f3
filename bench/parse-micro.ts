// npm run bench:parse [-- --tree DIR --per-format K --mixed-runs N]
// CPU cost of reading one run, per format, single thread, in-process: the file bytes are loaded into memory
// first (so the number is the parse + build + serialise cost, not the disk's), then K runs of each format
// are parsed `--rounds` times; the best round is reported (the machine is shared: the best round is the
// one least disturbed by other processes). A second column reads the same runs through the fs driver.
// Prints a Markdown table; `--json` prints the raw numbers.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { discoverRuns, type DiscoveredRun } from '../src/sync/discover.ts';
import { adapters } from '../src/formats/index.ts';
import { parseRun } from '../src/formats/parse-run.ts';
import type { RootInfo } from '../src/formats/types.ts';
import { createFsDriver } from '../src/sources/drivers/fs.ts';
import type { SourceDriver, SourceEntry } from '../src/sources/types.ts';
import { toRunDoc } from '../src/sync/doc.ts';
import { ensureSeedTree } from './article.ts';
import { generateRuns } from './generate.ts';

const { values } = parseArgs({
  options: {
    tree: { type: 'string' },
    seed: { type: 'string' },
    'per-format': { type: 'string', default: '500' },
    rounds: { type: 'string', default: '5' },
    dir: { type: 'string', default: '/var/tmp/lora-bench' },
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-fs': { type: 'boolean', default: false },
  },
});
const K = Number(values['per-format']);
const ROUNDS = Number(values.rounds);
const mixedTree = values.tree ?? (await ensureMixedTree(path.join(values.dir, 'micro-mixed-4000'), 4000));
const seedTree = values.seed ?? (await ensureSeedTree(path.join(values.dir, 'micro-seed-2000'), 2000));

const groups = new Map<string, { root: string; runs: DiscoveredRun[] }>();
for (const [label, root] of [
  ['article (config.yaml + logs/train.log)', seedTree],
  ['mixed', mixedTree],
] as const) {
  for await (const item of discoverRuns(createFsDriver({ root }), '', adapters)) {
    if (item.kind !== 'run' || item.adapters.length !== 1) {
      continue;
    }
    const format = label === 'mixed' ? (item.adapters[0]?.id ?? '?') : label;
    const group = groups.get(format) ?? { root, runs: [] };
    if (group.runs.length < K) {
      group.runs.push(item);
    }
    groups.set(format, group);
  }
}

const rows: Array<Record<string, number | string>> = [];
for (const [format, { root, runs }] of groups) {
  if (values.only && !format.startsWith(values.only)) {
    continue;
  }
  const memory = await memoryDriver(root, runs);
  const fs = createFsDriver({ root });
  const info: RootInfo = { name: 'micro', kind: 'fs', uri: root };
  const inMemory = await measure(runs, memory, info);
  const fromDisk = values['no-fs'] ? { parseUs: NaN, serialiseUs: NaN } : await measure(runs, fs, info);
  rows.push({
    format,
    runs: runs.length,
    parseUs: inMemory.parseUs,
    serialiseUs: inMemory.serialiseUs,
    totalUs: inMemory.parseUs + inMemory.serialiseUs,
    fsTotalUs: fromDisk.parseUs + fromDisk.serialiseUs,
    bytesPerRun: inMemory.bytes,
  });
}
if (values.json) {
  process.stdout.write(`${JSON.stringify(rows)}\n`);
} else {
  const lines = [
    `CPU per run, single thread, best of ${ROUNDS} rounds (${new Date().toISOString()}, load ${(await loadAverage()).trim()})`,
    '',
    '| format | runs | parse+build (files in memory) | + bulk line serialise | total µs/run | total via fs driver µs/run | bulk bytes/run |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.format} | ${r.runs} | ${r.parseUs} | ${r.serialiseUs} | ${r.totalUs} | ${r.fsTotalUs} | ${r.bytesPerRun} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

// --- internal ---

/** User + system CPU of the process, µs (the JavaScript runs on one thread; file reads on the thread pool count too). */
function cpuNow(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function measure(runs: DiscoveredRun[], driver: SourceDriver, root: RootInfo): Promise<{ parseUs: number; serialiseUs: number; bytes: number }> {
  let best = { parseUs: Infinity, serialiseUs: Infinity, bytes: 0 };
  const now = new Date();
  for (let round = 0; round < ROUNDS + 1; round++) {
    const t0 = cpuNow();
    const records = [];
    for (const run of runs) {
      records.push(await parseRun(run, { driver, root, now }));
    }
    const t1 = cpuNow();
    let bytes = 0;
    for (const record of records) {
      bytes += Buffer.byteLength(JSON.stringify(toRunDoc(record, { now, firstSeenAt: null })));
    }
    const t2 = cpuNow();
    // Round 0 warms the JIT and is not counted.
    if (round > 0 && t2 - t0 < (best.parseUs + best.serialiseUs) * runs.length) {
      best = { parseUs: Math.round((t1 - t0) / runs.length), serialiseUs: Math.round((t2 - t1) / runs.length), bytes: Math.round(bytes / runs.length) };
    }
  }
  return best;
}

/** A driver serving the runs' files from memory: reads cost no system call. */
async function memoryDriver(root: string, runs: DiscoveredRun[]): Promise<SourceDriver> {
  const files = new Map<string, { entry: SourceEntry; bytes: Uint8Array }>();
  for (const run of runs) {
    for (const entry of run.listing.entries) {
      files.set(entry.key, { entry, bytes: await readFile(path.join(root, entry.key)) });
    }
  }
  return {
    name: 'memory',
    flags: { etag: false, rangedRead: false },
    async *list() {},
    async read(key, range) {
      const file = files.get(key);
      return file ? file.bytes.subarray(range?.start ?? 0, range?.end ?? file.bytes.length) : null;
    },
    async stream(key) {
      const file = files.get(key);
      return file ? single(file.bytes) : null;
    },
    async stat(key) {
      return files.get(key)?.entry ?? null;
    },
  };
}

async function* single(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

async function ensureMixedTree(dir: string, runs: number): Promise<string> {
  if (!existsSync(path.join(dir, '.complete'))) {
    await generateRuns({ root: dir, runs });
    await writeFile(path.join(dir, '.complete'), String(runs));
  }
  return dir;
}

async function loadAverage(): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}
