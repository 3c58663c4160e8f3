// The reference article's format, side by side on one engine and one tree (warm page cache): the article's
// exporter verbatim, `lora-catalog sync --backfill` (the CLI, rollups included), and the ceiling (cat of every
// file + raw _bulk of the backfill's own documents into an index with the same mapping, by the shared
// script). Besides wall times it records CPU seconds (the sync process, all threads; the Elasticsearch
// process tree) and Lucene documents, which stay meaningful when the machine is shared.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readEngineEnv } from '../src/config/env.ts';
import { ensureElasticsearchInstalled, startElasticsearch } from '../src/engine/elasticsearch.ts';
import { enginePathsFromEnv } from '../src/engine/paths.ts';
import type { RunningService } from '../src/engine/process.ts';

const sh = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '..');
/** The shared reference scripts (`../shared/perf` from the project root). */
/**
 * The benchmarks' own Elasticsearch (a fresh data dir under the temp dir, the given heap as min and max),
 * started from the cached engine build; `stop()` stops it and removes its data.
 */
export async function startBenchEngine(name: string, heap: string): Promise<RunningService> {
  const env = readEngineEnv();
  const home = await ensureElasticsearchInstalled({ ...enginePathsFromEnv(env), repositoryUrl: env.mavenRepository });
  const esDir = path.join(os.tmpdir(), `${name}-${process.pid}`);
  const es = await startElasticsearch({
    home,
    dataDir: path.join(esDir, 'data'),
    logsDir: path.join(esDir, 'logs'),
    configDir: path.join(esDir, 'config'),
    heap: { min: heap, max: heap },
    env: env.childEnv,
    timeoutMs: 240_000,
  });
  return {
    ...es,
    async stop() {
      await es.stop();
      await rm(esDir, { recursive: true, force: true });
    },
  };
}

export const PERF_DIR = path.resolve(repo, '..', 'shared', 'perf');

export interface ArticleResult {
  runs: number;
  load: string;
  /** CPUs the process and the engine share (both bars are wall-time ratios on these cores). */
  cores: number;
  exporter: { wallS: number; docs: number; cpuS: number; esCpuS: number; esJitS: number };
  backfill: {
    wallS: number;
    cpuS: number;
    esCpuS: number;
    esJitS: number;
    maxRssMb: number;
    runsDocs: number;
    luceneDocs: number;
    rollupLuceneDocs: number;
    status: string;
  };
  ceiling: { catS: number; bulkS: number; esCpuS: number; esJitS: number; luceneDocs: number };
  noop: { wallS: number; cpuS: number };
  statWalkS: number;
}

/** Runs the comparison on `n` runs against the engine at `esUrl` (its process tree rooted at `esPid`). */
export async function articleComparison(opts: {
  n: number;
  dir: string;
  esUrl: string;
  esPid: number;
  prefix?: string;
  /** Checkout whose CLI is measured (default this one): an A/B against another branch on the same engine. */
  project?: string;
  /** Only the backfill (for A/B runs of one lever). */
  backfillOnly?: boolean;
}): Promise<ArticleResult> {
  const tree = await ensureSeedTree(path.join(opts.dir, `seed-${opts.n}`), opts.n);
  const work = await mkdtemp(path.join(os.tmpdir(), 'lora-article-'));
  const prefix = opts.prefix ?? 'article';
  const cfg = path.join(work, 'cfg.yaml');
  const indices = { runs: `${prefix}-runs`, rollups: `${prefix}-rollups`, sync_runs: `${prefix}-syncs`, leases: `${prefix}-leases` };
  await writeFile(
    cfg,
    `sources:\n  - name: perf\n    kind: fs\n    path: ${tree}\nelasticsearch:\n  url: ${opts.esUrl}\nindices:\n${Object.entries(indices)
      .map(([k, v]) => `  ${k}: ${v}\n`)
      .join('')}outbox_dir: ${work}/outbox\n`,
  );
  try {
    await shell(`find '${tree}' -type f -print0 | xargs -0 cat > /dev/null`);
    const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');

    const skipped: Measured = { wallS: NaN, cpuS: NaN, esCpuS: NaN, esJitS: NaN, maxRssMb: NaN, stdout: '' };
    const exporter = opts.backfillOnly
      ? skipped
      : await measured(opts.esPid, ['/usr/bin/python3', path.join(PERF_DIR, 'seed_exporter_run.py'), tree, '--es', opts.esUrl]);
    const statWalkS = opts.backfillOnly ? NaN : (await measured(null, ['find', tree, '-type', 'f', '-printf', '%s %T@\\n'])).wallS;
    const catS = opts.backfillOnly ? NaN : (await measured(null, ['sh', '-c', `find '${tree}' -type f -print0 | xargs -0 cat > /dev/null`])).wallS;
    const cli = [
      process.execPath,
      '--max-old-space-size=256',
      '--max-semi-space-size=8',
      path.join(opts.project ?? repo, 'src', 'cli', 'main.ts'),
      'sync',
      '--config',
      cfg,
      '--json',
    ];
    const backfill = await measured(opts.esPid, [...cli, '--backfill']);
    // The sync report's own status (the first one printed; the rollup report follows it).
    const report = { status: /"status":\s*"(\w+)"/.exec(backfill.stdout)?.[1] ?? 'unknown' };
    const noop = opts.backfillOnly ? skipped : await measured(null, cli);
    const ceiling = opts.backfillOnly
      ? skipped
      : await measured(opts.esPid, ['python3', path.join(PERF_DIR, 'raw_bulk.py'), opts.esUrl, indices.runs, `${prefix}-ceiling-runs`]);
    const docs = await catIndices(opts.esUrl);
    const count = async (index: string) => ((await (await fetch(`${opts.esUrl}/${index}/_count`)).json()) as { count: number }).count;
    return {
      runs: opts.n,
      load,
      cores: os.availableParallelism(),
      exporter: {
        wallS: exporter.wallS,
        docs: opts.backfillOnly ? NaN : await count('lora-training-logs'),
        cpuS: exporter.cpuS,
        esCpuS: exporter.esCpuS,
        esJitS: exporter.esJitS,
      },
      backfill: {
        wallS: backfill.wallS,
        cpuS: backfill.cpuS,
        esCpuS: backfill.esCpuS,
        esJitS: backfill.esJitS,
        maxRssMb: backfill.maxRssMb,
        runsDocs: await count(indices.runs),
        luceneDocs: docs.get(`${indices.runs}-v`) ?? NaN,
        rollupLuceneDocs: docs.get(`${indices.rollups}-v`) ?? NaN,
        status: report.status,
      },
      ceiling: {
        catS,
        // raw_bulk.py prints its own timing (the bulk and refresh, not reading the documents back) and the count.
        bulkS: Number(ceiling.stdout.trim().split(' ')[0] || NaN),
        esCpuS: ceiling.esCpuS,
        esJitS: ceiling.esJitS,
        luceneDocs: docs.get(`${prefix}-ceiling-runs`) ?? NaN,
      },
      noop: { wallS: noop.wallS, cpuS: noop.cpuS },
      statWalkS,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export function articleTable(r: ArticleResult): string {
  const ceiling = r.ceiling.catS + r.ceiling.bulkS;
  const rows = [
    [
      `article's exporter, verbatim (one es.index per run)`,
      `${r.exporter.wallS.toFixed(1)} s`,
      rate(r.runs, r.exporter.wallS),
      `${r.exporter.cpuS.toFixed(1)} + ES ${engineCpuText(r.exporter)}`,
      `${r.exporter.docs} docs`,
    ],
    [
      'lora-catalog sync --backfill (CLI, rollups included)',
      `${r.backfill.wallS.toFixed(1)} s`,
      rate(r.runs, r.backfill.wallS),
      `${r.backfill.cpuS.toFixed(1)} + ES ${engineCpuText(r.backfill)}`,
      `${r.backfill.runsDocs} runs = ${r.backfill.luceneDocs} Lucene docs (${(r.backfill.luceneDocs / r.backfill.runsDocs).toFixed(1)}/run), rollups ${r.backfill.rollupLuceneDocs}; RSS ${r.backfill.maxRssMb} MB; ${r.backfill.status}`,
    ],
    [
      `ceiling: cat of every file + raw _bulk of the same docs, same mapping`,
      `${ceiling.toFixed(1)} s (cat ${r.ceiling.catS.toFixed(1)} + bulk ${r.ceiling.bulkS.toFixed(1)})`,
      rate(r.runs, ceiling),
      `ES ${engineCpuText(r.ceiling)} (reading the docs back + bulk)`,
      `${r.ceiling.luceneDocs} Lucene docs`,
    ],
    [
      'no-op resync',
      `${r.noop.wallS.toFixed(1)} s`,
      rate(r.runs, r.noop.wallS),
      r.noop.cpuS.toFixed(1),
      `${(r.noop.wallS / r.statWalkS).toFixed(2)}× the stat walk (${r.statWalkS.toFixed(1)} s)`,
    ],
  ];
  return [
    `Article format, ${r.runs} runs, warm page cache, load average ${r.load} at the start`,
    '',
    '| step | wall | runs/s | CPU s (process + Elasticsearch, of which its JIT compiler threads) | notes |',
    '|---|---|---|---|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    `backfill vs exporter: **${(r.exporter.wallS / r.backfill.wallS).toFixed(1)}× faster** (bar ≥ 5×); backfill / ceiling: **${(r.backfill.wallS / ceiling).toFixed(2)}×** (bar ≤ 2×)`,
    '',
    cpuBudget(r),
  ].join('\n');
}

/**
 * The CPU seconds each bar leaves the backfill (the process and the engine share the cores, so a wall time of T
 * holds at most T × cores of their CPU) against what this backfill used: when the engine's share alone nearly
 * fills a budget, no parser can meet that bar on this machine.
 */
function cpuBudget(r: ArticleResult): string {
  const used = r.backfill.cpuS + r.backfill.esCpuS;
  const { ceiling, exporter } = budgets(r);
  return (
    `CPU budget on ${r.cores} cores: the ≤ 2× bar allows ${ceiling.toFixed(1)} CPU s, the ≥ 5× bar ${exporter.toFixed(1)} CPU s; ` +
    `this backfill used ${used.toFixed(1)} (process ${r.backfill.cpuS.toFixed(1)} + engine ${r.backfill.esCpuS.toFixed(1)}).`
  );
}

/** The CPU seconds the ≤ 2× (ceiling) and ≥ 5× (exporter) bars leave the backfill: their wall time × the cores. */
export function budgets(r: ArticleResult): { ceiling: number; exporter: number } {
  return { ceiling: 2 * (r.ceiling.catS + r.ceiling.bulkS) * r.cores, exporter: (r.exporter.wallS / 5) * r.cores };
}

// --- internal ---

interface Measured {
  wallS: number;
  cpuS: number;
  esCpuS: number;
  esJitS: number;
  maxRssMb: number;
  stdout: string;
}

/** Runs a command under GNU time (user+system CPU of the process and its threads, peak RSS) and the engine's CPU over the same span. */
async function measured(esPid: number | null, argv: string[]): Promise<Measured> {
  const timeFile = path.join(os.tmpdir(), `lora-time-${process.pid}-${Date.now()}`);
  const esBefore = esPid === null ? NO_ENGINE : await engineCpu(esPid);
  const started = performance.now();
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-o', timeFile, '-f', '%U %S %M', ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('exit', (code) =>
      code === 0 || argv.includes('--json') ? resolve(out) : reject(new Error(`${argv.join(' ')} exited ${code}: ${out.slice(-500)}`)),
    );
  });
  const wallS = (performance.now() - started) / 1000;
  const esAfter = esPid === null ? NO_ENGINE : await engineCpu(esPid);
  const [user, system, rssKb] = (await readFile(timeFile, 'utf8')).trim().split('\n').at(-1)?.split(' ').map(Number) ?? [];
  await rm(timeFile, { force: true });
  return {
    wallS,
    cpuS: (user ?? NaN) + (system ?? NaN),
    esCpuS: esAfter.cpuS - esBefore.cpuS,
    esJitS: esAfter.jitS - esBefore.jitS,
    maxRssMb: Math.round((rssKb ?? NaN) / 1024),
    stdout,
  };
}

const NO_ENGINE = { cpuS: 0, jitS: 0 };
/** HotSpot's JIT compiler threads (`C1 CompilerThread0`, `C2 CompilerThread0`; the kernel keeps 15 characters). */
const JIT_THREAD = /^C\d CompilerThre/;

/**
 * User + system CPU seconds of a process and all its descendants (Elasticsearch's launcher starts the server
 * JVM as a child), and the part its JIT compiler threads spent: a JVM a minute old spends as much compiling
 * as indexing, which the wall times alone do not show.
 */
export async function engineCpu(rootPid: number): Promise<{ cpuS: number; jitS: number }> {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) {
      continue;
    }
    const fields = await statFields(`/proc/${name}/stat`);
    if (fields) {
      stats.set(Number(name), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    }
  }
  let ticks = 0;
  let jitTicks = 0;
  const todo = [rootPid];
  while (todo.length > 0) {
    const pid = todo.pop() as number;
    ticks += stats.get(pid)?.ticks ?? 0;
    jitTicks += await jitThreadTicks(pid);
    for (const [child, s] of stats) {
      if (s.ppid === pid) {
        todo.push(child);
      }
    }
  }
  return { cpuS: ticks / 100, jitS: jitTicks / 100 };
}

async function jitThreadTicks(pid: number): Promise<number> {
  let ticks = 0;
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  for (const tid of tasks) {
    const comm = await readFile(`/proc/${pid}/task/${tid}/comm`, 'utf8').catch(() => '');
    const fields = JIT_THREAD.test(comm) ? await statFields(`/proc/${pid}/task/${tid}/stat`) : null;
    ticks += fields ? Number(fields[11]) + Number(fields[12]) : 0;
  }
  return ticks;
}

/** The fields of a `/proc/…/stat` line after the command name; null when the process or thread has exited. */
async function statFields(file: string): Promise<string[] | null> {
  try {
    const text = await readFile(file, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function engineCpuText(m: { esCpuS: number; esJitS: number }): string {
  return `${m.esCpuS.toFixed(1)} (JIT ${m.esJitS.toFixed(1)})`;
}

async function catIndices(esUrl: string): Promise<Map<string, number>> {
  await fetch(`${esUrl}/_refresh`, { method: 'POST' });
  const rows = (await (await fetch(`${esUrl}/_cat/indices?h=index,docs.count&format=json`)).json()) as Array<{ index: string; 'docs.count': string }>;
  const out = new Map<string, number>();
  for (const row of rows) {
    // `<alias>-v<N>` indices are reported under `<alias>-v`.
    const key = row.index.replace(/-v\d+$/, '-v');
    out.set(key, Number(row['docs.count']));
  }
  return out;
}

export async function ensureSeedTree(dir: string, runs: number): Promise<string> {
  const marker = path.join(dir, '.complete');
  if (existsSync(marker) && (await readFile(marker, 'utf8')) === String(runs)) {
    return dir;
  }
  await rm(dir, { recursive: true, force: true });
  process.stderr.write(`generating ${runs} article-format runs in ${dir}…\n`);
  await sh('python3', [path.join(PERF_DIR, 'gen_seed_corpus.py'), dir, String(runs)]);
  await writeFile(marker, String(runs));
  return dir;
}

async function shell(command: string): Promise<void> {
  await sh('bash', ['-c', command], { maxBuffer: 1 << 20 });
}

function rate(runs: number, seconds: number): string {
  return seconds > 0 ? String(Math.round(runs / seconds)) : '—';
}
