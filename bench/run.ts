// npm run bench [-- --runs 100000 --naive-runs 10000 --article-runs 10000 --only article --dir /var/tmp/lora-bench --heap 1g]
// First the article's format (bench/article.ts: its exporter verbatim, the backfill, the ceiling; warm; then the ceiling again on a second engine in the backfill's state, bench/ceiling-same-state.ts), then:
// Generates N synthetic runs (all four formats), starts the embedded Elasticsearch, and measures side by
// side on the same tree and engine: full backfill, the ceiling (cat of what the sync reads + raw _bulk of
// the same documents), a no-op resync vs a stat-only walk, the naive one-request-per-run exporter, and
// peak RSS at N vs N/10. Prints a Markdown table (also written to bench/results/).
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { Client } from '@elastic/elasticsearch';
import { applyIndices } from '../src/es/indices.ts';
import { parseConfig } from '../src/config/load.ts';
import { articleComparison, articleTable, ensureSeedTree, startBenchEngine } from './article.ts';
import { sameStateCeiling, sameStateLine } from './ceiling-same-state.ts';
import { spoolBulkBodies } from './bulk-bodies.ts';
import { generateRuns } from './generate.ts';

const sh = promisify(execFile);
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '100000' },
    'naive-runs': { type: 'string' },
    dir: { type: 'string', default: '/var/tmp/lora-bench' },
    warm: { type: 'boolean', default: false },
    heap: { type: 'string', default: '1g' },
    'article-runs': { type: 'string', default: '10000' },
    only: { type: 'string' },
  },
});
const ARTICLE = Number(values['article-runs']);
const ONLY_ARTICLE = values.only === 'article';
const N = Number(values.runs);
const NAIVE = Number(values['naive-runs'] ?? Math.min(N, 10_000));
const repo = path.resolve(import.meta.dirname, '..');

const treeBig = ONLY_ARTICLE ? '' : await ensureTree(path.join(values.dir, `runs-${N}`), N);
const treeSmall = ONLY_ARTICLE ? '' : await ensureTree(path.join(values.dir, `runs-${N / 10}`), N / 10);
const es = await startBenchEngine('lora-bench-es', values.heap);
const client = new Client({ node: es.url, requestTimeout: 300_000 });
const rows: string[][] = [];
let articleSection = '';
const results: Record<string, unknown> = {
  runs: N,
  naiveRuns: NAIVE,
  cores: os.cpus().length,
  heap: values.heap,
  node: process.version,
  date: new Date().toISOString(),
};
try {
  if (ARTICLE > 0) {
    // The article's format first, on a fresh engine: its exporter, the backfill and the ceiling in the same run.
    const article = await articleComparison({ n: ARTICLE, dir: values.dir, esUrl: es.url, esPid: es.pid });
    results.article = article;
    articleSection = articleTable(article);
    const tree = await ensureSeedTree(path.join(values.dir, `seed-${ARTICLE}`), ARTICLE);
    const sameState = await sameStateCeiling({ sourceUrl: es.url, runsIndex: 'article-runs', tree, heap: values.heap });
    results.articleSameStateCeiling = sameState;
    articleSection += `\n\n${sameStateLine(sameState, article)}`;
    process.stderr.write(`${articleSection}\n`);
  }
  if (!ONLY_ARTICLE) {
    const cacheNote = (await dropCaches())
      ? 'page cache dropped before each step (cold)'
      : values.warm
        ? 'warm page cache (--warm; the tree is read once first)'
        : 'warm page cache (dropping caches is not permitted here)';
    if (values.warm) {
      await timed(`find ${q(treeBig)} -type f -print0 | xargs -0 cat > /dev/null; find ${q(treeSmall)} -type f -print0 | xargs -0 cat > /dev/null`);
    }
    results.cache = cacheNote;

    const main = config('bench-main', treeBig);
    await dropCaches();
    const backfill = await child('backfill', main);
    results.backfill = backfill;
    const backfillS = backfill.wallMs / 1000;

    await dropCaches();
    const catS = await timed(
      `find ${q(treeBig)} -type f ! -name '*.safetensors' -print0 | xargs -0 cat > /dev/null; find ${q(treeBig)} -type f -name '*.safetensors' -print0 | xargs -0 head -q -c 65536 > /dev/null`,
    );
    const rawBulkS = await rawBulk(main);
    results.ceiling = { catS, rawBulkS };

    await dropCaches();
    const noop = await child('full', main);
    results.noop = noop;
    await dropCaches();
    const walkS = await timed(`find ${q(treeBig)} -type f -printf '%s %T@\\n' > /dev/null`);
    results.statWalkS = walkS;

    const naive = await child('naive', config('bench-naive', treeBig), NAIVE);
    results.naive = naive;

    const small = await child('backfill', config('bench-small', treeSmall));
    results.small = small;

    const ceiling = catS + rawBulkS;
    rows.push([
      'full backfill (sync --backfill)',
      `${backfillS.toFixed(1)} s`,
      `${rate(N, backfillS)} runs/s`,
      `${backfill.maxRssMb} MB`,
      `${(backfillS / ceiling).toFixed(2)}× the ceiling (target ≤ 1.5×)`,
    ]);
    rows.push([
      'ceiling: cat of the files read + raw _bulk of the same docs',
      `${ceiling.toFixed(1)} s (cat ${catS.toFixed(1)} + bulk ${rawBulkS.toFixed(1)})`,
      `${rate(N, ceiling)} runs/s`,
      '—',
      '',
    ]);
    rows.push([
      'no-op resync (sync, nothing changed)',
      `${(noop.wallMs / 1000).toFixed(1)} s`,
      `${rate(N, noop.wallMs / 1000)} runs/s`,
      `${noop.maxRssMb} MB`,
      `${noop.counts.written} writes; ${(noop.wallMs / 1000 / walkS).toFixed(2)}× the stat walk (target ≤ 1.5×)`,
    ]);
    rows.push(["stat-only walk: find -type f -printf '%s %T@'", `${walkS.toFixed(1)} s`, `${rate(N, walkS)} runs/s`, '—', '']);
    rows.push([
      `naive exporter (one index request per run, first ${NAIVE} runs)`,
      `${(naive.wallMs / 1000).toFixed(1)} s`,
      `${rate(naive.counts.found, naive.wallMs / 1000)} runs/s`,
      `${naive.maxRssMb} MB`,
      `${(N / backfillS / (naive.counts.found / (naive.wallMs / 1000))).toFixed(1)}× slower than the backfill per run`,
    ]);
    rows.push([
      `full backfill at N/10 = ${N / 10} runs`,
      `${(small.wallMs / 1000).toFixed(1)} s`,
      `${rate(N / 10, small.wallMs / 1000)} runs/s`,
      `${small.maxRssMb} MB`,
      `peak RSS at N / at N/10 = ${(backfill.maxRssMb / small.maxRssMb).toFixed(2)} (target ≤ 1.3)`,
    ]);
  }
} finally {
  await client.close();
  await es.stop();
}
const mixedTable = [
  `lora-catalog benchmark — ${N} runs, ${os.cpus().length} cores, Elasticsearch heap ${values.heap}, Node ${process.version}, ${results.cache}`,
  '',
  '| measurement | wall time | throughput | peak RSS | vs target |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');
const table = [articleSection, ONLY_ARTICLE ? '' : mixedTable].filter(Boolean).join('\n\n');
process.stdout.write(`${table}\n`);
await mkdir(path.join(repo, 'bench', 'results'), { recursive: true });
const stamp = new Date().toISOString().replaceAll(':', '-').slice(0, 19);
await writeFile(
  path.join(repo, 'bench', 'results', `${stamp}-${ONLY_ARTICLE ? `article-${ARTICLE}` : N}.md`),
  `${table}\n\n\`\`\`json\n${JSON.stringify(results, null, 2)}\n\`\`\`\n`,
);

// --- internal ---

interface ChildResult {
  wallMs: number;
  maxRssMb: number;
  counts: { found: number; written: number };
}

function config(prefix: string, tree: string): Record<string, unknown> {
  return {
    sources: [{ name: 'bench', kind: 'fs', path: tree }],
    indices: { runs: `${prefix}-runs`, rollups: `${prefix}-rollups`, sync_runs: `${prefix}-syncs`, leases: `${prefix}-leases` },
  };
}

async function ensureTree(dir: string, runs: number): Promise<string> {
  const marker = path.join(dir, '.complete');
  if (existsSync(marker) && (await readFile(marker, 'utf8')) === String(runs)) {
    return dir;
  }
  await rm(dir, { recursive: true, force: true });
  const started = performance.now();
  process.stderr.write(`generating ${runs} runs in ${dir}…\n`);
  await generateRuns({ root: dir, runs });
  await writeFile(marker, String(runs));
  process.stderr.write(`  done in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  return dir;
}

async function child(mode: string, cfg: Record<string, unknown>, naiveLimit?: number): Promise<ChildResult> {
  process.stderr.write(`${mode} on ${(cfg.sources as Array<{ path: string }>)[0]?.path}…\n`);
  const args = [path.join(repo, 'bench', 'sync-child.ts'), mode, es.url, JSON.stringify(cfg), ...(naiveLimit === undefined ? [] : [String(naiveLimit)])];
  // The same heap caps as the CLI's container entry point (see Dockerfile).
  const proc = spawn(process.execPath, ['--max-old-space-size=256', '--max-semi-space-size=8', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  if (code !== 0) {
    throw new Error(`${mode} exited ${code}: ${out}`);
  }
  const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as ChildResult;
  process.stderr.write(`  ${JSON.stringify(result)}\n`);
  return result;
}

/** Exports the backfilled documents as prebuilt NDJSON (bulk-bodies.ts), then times posting it raw with _bulk (5 MB requests, 2 in flight, like the sync). */
async function rawBulk(cfg: Record<string, unknown>): Promise<number> {
  const source = (cfg.indices as { runs: string }).runs;
  const target = parseConfig({
    ...cfg,
    indices: { runs: 'bench-raw-runs', rollups: 'bench-raw-rollups', sync_runs: 'bench-raw-syncs', leases: 'bench-raw-leases' },
  });
  await applyIndices(client, target);
  await client.indices.putSettings({ index: 'bench-raw-runs', settings: { index: { refresh_interval: '-1', number_of_replicas: 0 } } });
  const bodies = await spoolBulkBodies(client, source, 'bench-raw-runs');
  try {
    const started = performance.now();
    let next = 0;
    async function worker(): Promise<void> {
      while (next < bodies.count) {
        const body = await bodies.read(next++);
        const res = await fetch(`${es.url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
        const json = (await res.json()) as { errors: boolean };
        if (json.errors) {
          throw new Error('raw _bulk reported errors');
        }
      }
    }
    await Promise.all([worker(), worker()]);
    await client.indices.putSettings({ index: 'bench-raw-runs', settings: { index: { refresh_interval: '1s' } } });
    await client.indices.refresh({ index: 'bench-raw-runs' });
    return (performance.now() - started) / 1000;
  } finally {
    await bodies.close();
  }
}

async function timed(command: string): Promise<number> {
  const started = performance.now();
  await sh('bash', ['-c', command], { maxBuffer: 1024 * 1024 });
  return (performance.now() - started) / 1000;
}

async function dropCaches(): Promise<boolean> {
  if (values.warm) {
    return false;
  }
  try {
    await sh('bash', ['-c', 'sync && echo 3 > /proc/sys/vm/drop_caches']);
    return true;
  } catch {
    return false;
  }
}

function rate(runs: number, seconds: number): string {
  return seconds > 0 ? String(Math.round(runs / seconds)) : '—';
}

function q(p: string): string {
  return `'${p.replaceAll("'", "'\\''")}'`;
}
