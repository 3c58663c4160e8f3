import path from 'node:path';
import { parseArgs } from 'node:util';
import { durationMs, fsSource, type Config } from '../config/schema.ts';
import type { AppContext } from '../context.ts';
import { errorMessage } from '../errors.ts';
import { syncJob } from '../sync/job.ts';
import type { SyncOptions } from '../sync/run.ts';
import type { SyncReport } from '../sync/report.ts';
import { randomUUID } from 'node:crypto';
import { ensureIndex } from '../es/indices.ts';
import { packageRoot } from './package-root.ts';
import { LeaseHeldError } from '../lease/lease.ts';
import { createRollupSpool, type RollupSpool } from '../rollups/spool.ts';
import { indexableReport, skippedReport } from '../sync/report.ts';
import type { Io } from './io.ts';
import { EXIT_INCOMPLETE_LISTING, formatReport, recordRollupPhase, rollupPhase, unmarkedRoots, type RollupOutcome } from './sync-report.ts';

export { EXIT_INCOMPLETE_LISTING, formatReport, rollupPhase, unmarkedRoots, type RollupOutcome } from './sync-report.ts';

export const SYNC_USAGE = `Usage: lora-catalog sync [options]

Crawls every configured source, reads new and changed runs, and writes them to Elasticsearch;
runs no longer found are marked vanished (never deleted). Then brings the rollups up to date with every
run written since they last completed (also after a failed or interrupted sync).

Options:
  --mode full|incremental   full (default) lists every root and may mark runs vanished;
                            incremental only re-reads what changed and never marks vanished
  --since <time>            only runs with a file modified since (ISO date or 2h, 1d…); implies
                            --mode incremental (with --mode full it is a usage error)
  --prefix <path>           only runs under this path of each root (repeatable); implies
                            --mode incremental (with --mode full it is a usage error)
  --source <name>           only this configured source (repeatable)
  --shard <i>/<n>           only runs whose path hashes into shard i of n (sharded backfill)
  --backfill                refresh off and replicas 0 while loading, restored afterwards
  --dry-run                 print the plan (counts per class, sample ids) and write nothing
  --allow-mass-vanish       allow marking more than sync.max_vanish_share of a root vanished
  --no-rollups              skip the rollup recomputation
  --example                 sync the bundled example runs (examples/runs) and show one search
  --config <file>           config file (default ./lora-catalog.yaml, env LORA_CATALOG_CONFIG)
  --json                    print the report as JSON
  -h, --help                this help

Exit codes: 0 ok, 1 some runs failed to write, a source failed to list or the rollups failed, 2 usage
or config error,
3 refused: would mark too many runs vanished, 4 Elasticsearch unreachable, 6 written, but a full sync
could not list a root completely (listing warnings: permission denied, vanished while listed…), so none
of its runs was marked vanished, 143/130 stopped by SIGTERM/SIGINT. A sync skipped because another sync
of an overlapping set of sources holds their lease exits 0 and prints "skipped: lease … held by <owner>
until <time>" (recorded in the sync-runs index with status skipped).`;

/** The reference article's query: prompts about cyberpunk with a final loss under 0.05. */
export const ARTICLE_QUERY = {
  query: { bool: { must: [{ match: { prompt_example: 'cyberpunk' } }], filter: [{ range: { loss_final: { lt: 0.05 } } }] } },
};

export interface ParsedSyncArgs {
  options: SyncOptions;
  rollups: boolean;
  example: boolean;
}

export function parseSyncArgs(argv: string[], now: Date): ParsedSyncArgs | string {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        mode: { type: 'string' },
        since: { type: 'string' },
        prefix: { type: 'string', multiple: true },
        source: { type: 'string', multiple: true },
        shard: { type: 'string' },
        backfill: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        'allow-mass-vanish': { type: 'boolean' },
        'no-rollups': { type: 'boolean' },
        example: { type: 'boolean' },
        config: { type: 'string' },
        json: { type: 'boolean' },
      },
    }));
  } catch (err) {
    return errorMessage(err);
  }
  if (values.mode !== undefined && values.mode !== 'full' && values.mode !== 'incremental') {
    return `--mode must be full or incremental, got ${values.mode}`;
  }
  // A time window or a subtree is an incremental sync by nature: a full sync that saw only part of a root
  // would have to skip vanish marking anyway, so asking for both is a mistake worth saying.
  const partial = values.since !== undefined ? '--since' : values.prefix !== undefined ? '--prefix' : null;
  if (partial !== null && values.mode === 'full') {
    return `${partial} only applies to incremental syncs: drop --mode full (${partial} implies --mode incremental)`;
  }
  const options: SyncOptions = { mode: values.mode ?? (partial !== null ? 'incremental' : 'full') };
  if (values.since) {
    const since = parseSince(values.since, now);
    if (!since) {
      return `--since: expected an ISO date or a duration like 2h or 1d, got ${values.since}`;
    }
    options.since = since;
  }
  if (values.shard) {
    const m = /^(\d+)\/(\d+)$/.exec(values.shard);
    if (!m || Number(m[1]) >= Number(m[2]) || Number(m[2]) < 1 || Number(m[2]) > 1024) {
      return `--shard: expected <index>/<count> with 0 <= index < count <= 1024, got ${values.shard}`;
    }
    options.shard = { index: Number(m[1]), count: Number(m[2]) };
  }
  if (values.prefix) {
    options.prefixes = values.prefix;
  }
  if (values.source) {
    options.sources = values.source;
  }
  if (values.backfill) {
    options.backfill = true;
  }
  if (values['dry-run']) {
    options.dryRun = true;
  }
  if (values['allow-mass-vanish']) {
    options.allowMassVanish = true;
  }
  return { options, rollups: !values['no-rollups'], example: values.example ?? false };
}

/** Config for `--example`: the bundled runs as the only source. */
export function exampleConfig(config: Config): Config {
  return { ...config, sources: [fsSource('examples', path.join(packageRoot(), 'examples', 'runs'))] };
}

export async function syncCommand(ctx: AppContext, args: ParsedSyncArgs, io: Io): Promise<number> {
  // What a first load writes is recorded for its rollups, which then need not read it back (rollups/spool.ts).
  const spool = args.rollups && !args.options.dryRun ? createRollupSpool() : undefined;
  try {
    return await syncAndRollups(ctx, args, io, spool);
  } finally {
    spool?.dispose();
  }
}

async function syncAndRollups(ctx: AppContext, args: ParsedSyncArgs, io: Io, spool: RollupSpool | undefined): Promise<number> {
  const progress = io.tty && !io.json;
  const options: SyncOptions = {
    ...args.options,
    ...(progress ? { onProgress: (p) => io.progress(progressLine(p)) } : {}),
    ...(spool ? { rollupSpool: spool } : {}),
  };
  let report: SyncReport;
  try {
    report = await syncJob(ctx, options);
  } catch (err) {
    if (err instanceof LeaseHeldError) {
      return recordSkipped(ctx, args.options, err, io);
    }
    throw err;
  }
  io.progress('');
  // Rollups run after a failed sync too: they recompute whatever was written (the watermark says what).
  let rollups: RollupOutcome | null = null;
  if (args.rollups && !args.options.dryRun) {
    const started = Date.now();
    rollups = await rollupPhase(ctx, args.options.backfill === true, spool);
    report.durations_ms.rollups = Date.now() - started;
    await recordRollupPhase(ctx, report, rollups);
  }
  let example: { total: number; hits: Array<Record<string, unknown>> } | null = null;
  if (args.example) {
    const res = await ctx.client.search<Record<string, unknown>>({
      index: ctx.config.indices.runs,
      ...ARTICLE_QUERY,
      _source: ['run_id', 'prompt_example', 'loss_final', 'lora_rank', 'source.path'],
    });
    example = { total: typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0), hits: res.hits.hits.map((h) => h._source ?? {}) };
  }
  if (io.json) {
    io.stdout(JSON.stringify({ report, rollups, example }, null, 2));
  } else {
    io.stdout(formatReport(report, rollups));
    if (example) {
      io.stdout(
        `\nExample search (the reference article's query: prompt_example matches "cyberpunk", loss_final < 0.05):\n${JSON.stringify(ARTICLE_QUERY)}\n→ ${example.total} run(s)`,
      );
      for (const hit of example.hits) {
        const src = hit as { run_id: string; loss_final: number; lora_rank: number; prompt_example: string; source: { path: string } };
        io.stdout(`  ${src.run_id}  rank ${src.lora_rank}  loss_final ${src.loss_final}  ${src.source.path}\n    "${src.prompt_example}"`);
      }
    }
  }
  if (report.errors.some((e) => e.code === 'mass-vanish')) {
    return 3;
  }
  if (report.status !== 'ok' || rollups?.status === 'failed') {
    return 1;
  }
  return unmarkedRoots(report).length > 0 ? EXIT_INCOMPLETE_LISTING : 0;
}

function progressLine(p: { source: string; found: number; written: number; expected: number; elapsedMs: number }): string {
  const rate = (p.found / Math.max(1, p.elapsedMs)) * 1000;
  const left = p.expected - p.found;
  const eta = left > 0 && rate > 0 ? `, ETA ${Math.floor(left / rate / 60)}:${String(Math.round(left / rate) % 60).padStart(2, '0')}` : '';
  return `  ${p.source}: ${p.found} runs, ${p.written} written, ${Math.round(rate)} runs/s${eta}`;
}

/**
 * Another sync of an overlapping source set holds a lease: an expected outcome of overlapping
 * schedules, not a failure (exit 0, so a Kubernetes Job does not fail every hour while the nightly
 * full sync runs). Recorded in the sync-runs index with status `skipped`.
 */
async function recordSkipped(ctx: AppContext, options: SyncOptions, err: LeaseHeldError, io: Io): Promise<number> {
  const report = skippedReport({
    syncId: randomUUID(),
    mode: options.mode,
    now: ctx.now(),
    shard: options.shard ? `${options.shard.index}/${options.shard.count}` : null,
    message: err.message,
  });
  await ensureIndex(ctx.client, ctx.config.indices.sync_runs, 'sync_runs');
  await ctx.client.index({ index: ctx.config.indices.sync_runs, id: report.sync_id, document: indexableReport(report), refresh: true });
  const line = `skipped: ${err.message}; nothing synced (sync_id ${report.sync_id})`;
  if (io.json) {
    io.stdout(JSON.stringify({ report, rollups: null, example: null }, null, 2));
  } else {
    io.stdout(line);
  }
  return 0;
}

/** A duration back from now (`2h`, `1d`, as in the config) or an ISO date. */
function parseSince(value: string, now: Date): Date | null {
  if (/^\d+(ms|s|m|h|d|w)$/.test(value)) {
    return new Date(now.getTime() - durationMs(value));
  }
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}
