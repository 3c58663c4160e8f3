import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context.ts';
import { durationMs, type SourceConfig } from '../config/schema.ts';
import { applyIndices } from '../es/indices.ts';
import { errorMessage, ReconcileError } from '../errors.ts';
import { leaseOwner } from '../lease/lease.ts';
import { createDriverCache } from '../sources/index.ts';
import { restoreAfterCrash, withBackfillSettings } from './backfill.ts';
import { startHeadStart, type HeadStart } from './head-start.ts';
import { createIdentityGuard } from './identity-guard.ts';
import type { SyncOptions } from './options.ts';
import { createParsePool, type ParsePool } from './parse-pool.ts';
import { addError, emptyCounts, indexableReport, type SyncReport } from './report.ts';
import { syncSource } from './source.ts';

export type { SyncOptions } from './options.ts';

/**
 * One sync: crawl every source, merge with the index in reconcile order, re-read only new and changed
 * runs, write them with bulk, mark vanished runs (only after a complete listing, after the grace
 * period, and never en masse without consent), and record a report in the sync-runs index.
 */
export async function runSync(ctx: AppContext, opts: SyncOptions): Promise<SyncReport> {
  const started = ctx.now();
  const report: SyncReport = {
    sync_id: randomUUID(),
    mode: opts.mode,
    status: 'ok',
    dry_run: opts.dryRun ?? false,
    started_at: started.toISOString(),
    finished_at: started.toISOString(),
    duration_ms: 0,
    sources: [],
    counts: emptyCounts(),
    durations_ms: { list: 0, parse: 0, bulk: 0, vanish: 0, rollups: 0 },
    throughput_runs_per_s: 0,
    errors: [],
    errors_total: 0,
    shard: opts.shard ? `${opts.shard.index}/${opts.shard.count}` : null,
    sample: {},
    parse_error_sample: [],
  };
  const { config } = ctx;
  const sources = config.sources.filter((s) => !opts.sources || opts.sources.includes(s.name));
  // Started first: the workers load their modules while the indices are set up.
  const parser = opts.parser ?? createParsePool({ sources, workers: opts.dryRun ? 0 : config.sync.parse_workers });
  // The first source's runs are read while the indices are set up, when all of them will be new (head-start.ts).
  const first = sources[0];
  const headStart =
    opts.dryRun || opts.parser || !first
      ? Promise.resolve(null)
      : startHeadStart({ ctx, source: first, opts, parser, concurrency: config.sync.parse_concurrency }).catch((err: unknown) => {
          ctx.log.debug({ err, message: errorMessage(err) }, 'No head start: the runs index could not be counted');
          return null;
        });
  try {
    return await syncWith(ctx, opts, report, sources, { parser, headStart });
  } finally {
    await (await headStart)?.close();
    if (!opts.parser) {
      await parser.close();
    }
  }
}

// --- internal ---

async function syncWith(
  ctx: AppContext,
  opts: SyncOptions,
  report: SyncReport,
  sources: SourceConfig[],
  { parser, headStart }: { parser: ParsePool; headStart: Promise<HeadStart | null> },
): Promise<SyncReport> {
  const { config, client } = ctx;
  // Whether the runs index held no run before this sync (the identity guard then looks up only ids it wrote).
  let indexEmpty = false;
  if (!opts.dryRun) {
    const status = await applyIndices(client, config);
    indexEmpty = status.find((s) => s.role === 'runs')?.docs === 0;
    // A shard is one of several writers of the index by design; on an index that holds runs the spool would describe only some.
    if (indexEmpty && !opts.shard) {
      opts.rollupSpool?.arm();
    } else {
      opts.rollupSpool?.poison(opts.shard ? 'a shard of a sharded sync' : 'the runs index held runs before this sync');
    }
    if (!opts.backfill && (await restoreAfterCrash(backfillTarget(ctx)))) {
      ctx.log.warn({ index: config.indices.runs }, 'Restored index settings left by an interrupted backfill');
    }
  }
  const index = config.indices.runs;
  const drivers = createDriverCache(config.sources);
  const guard = createIdentityGuard({ client, index, driverFor: (root) => drivers.get(root), indexEmpty });
  const shared = { guard, parser, headStart: await headStart };
  const work = async () => {
    for (const source of sources) {
      if (ctx.signal.aborted) {
        report.status = 'aborted';
        break;
      }
      const sourceReport = await syncSource(ctx, source, opts, report, shared);
      report.sources.push(sourceReport);
    }
  };
  try {
    if (opts.backfill && !opts.dryRun) {
      const member = `${leaseOwner()}:${opts.shard ? `shard-${opts.shard.index}-of-${opts.shard.count}` : 'all'}`;
      await withBackfillSettings({ ...backfillTarget(ctx), member }, work);
    } else {
      await work();
    }
  } catch (err) {
    report.status = 'failed';
    addError(report, { run_id: '-', code: (err as { code?: string }).code ?? 'sync-failed', message: errorMessage(err) });
    if (!(err instanceof ReconcileError)) {
      throw Object.assign(err as Error, { report: finish(ctx, report) });
    }
  }
  finish(ctx, report);
  if (report.counts.failed > 0 || report.sources.some((s) => s.error)) {
    report.status = report.status === 'ok' ? 'failed' : report.status;
  }
  if (!opts.dryRun) {
    await client.index({ index: config.indices.sync_runs, id: report.sync_id, document: indexableReport(report), refresh: true });
    await client.indices.refresh({ index });
  }
  return report;
}

function backfillTarget(ctx: AppContext) {
  const { client, config, log } = ctx;
  return { client, leases: config.indices.leases, runs: config.indices.runs, ttlMs: durationMs(config.schedule.lease_ttl), now: ctx.now, log };
}

function finish(ctx: AppContext, report: SyncReport): SyncReport {
  const end = ctx.now();
  report.finished_at = end.toISOString();
  report.duration_ms = end.getTime() - new Date(report.started_at).getTime();
  report.throughput_runs_per_s = report.duration_ms > 0 ? Math.round((report.counts.found / report.duration_ms) * 1000 * 10) / 10 : 0;
  return report;
}
