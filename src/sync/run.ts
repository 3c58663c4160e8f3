import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context.ts';
import { durationMs, type SourceConfig } from '../config/schema.ts';
import { errorMessage, ReconcileError } from '../errors.ts';
import type { DerivedStatus } from '../formats/kit/run-status.ts';
import { adapters } from '../formats/index.ts';
import { discoverRuns, SHARD_BUCKETS } from './discover.ts';
import { listingFingerprint } from '../record/identity.ts';
import { PARSER_VERSION } from '../record/schema.ts';
import { createDriver } from '../sources/index.ts';
import { compareKeys, runSortKey } from '../sources/order.ts';
import type { SourceDriver } from '../sources/types.ts';
import { applyIndices } from '../es/indices.ts';
import { leaseOwner } from '../lease/lease.ts';
import { restoreAfterCrash, withBackfillSettings } from './backfill.ts';
import { createBulkWriter, type BulkWriter } from '../es/bulk.ts';
import { rejectedDocFactory, toRunDoc } from './doc.ts';
import { createIdentityGuard, type IdentityGuard } from './identity-guard.ts';
import { createParsePool, type ParsePool } from './parse-pool.ts';
import { planActions, type CrawledRun, type PlannedAction } from './plan.ts';
import { confirmStatus } from './restatus.ts';
import { addError, addSample, emptyCounts, indexableReport, type SourceReport, type SyncReport } from './report.ts';
import { countActiveRuns, scanIndexedRuns, type IndexedRun } from './scan.ts';

export interface SyncOptions {
  mode: 'full' | 'incremental';
  /** Incremental: only runs with a file modified at or after this time are re-read. */
  since?: Date;
  /** Incremental: only these run paths/prefixes (relative to each root). */
  prefixes?: string[];
  /** Only these configured sources (by name). Default: all. */
  sources?: string[];
  dryRun?: boolean;
  allowMassVanish?: boolean;
  shard?: { index: number; count: number };
  /** Loading a large history: refresh off and replicas 0 while writing, restored afterwards. */
  backfill?: boolean;
  /** Reads runs with this pool instead of a new one (the `report` hook passes the run it has read already). Not closed here. */
  parser?: ParsePool;
  /** Called with the final id of every run found and its class (the `report` hook learns its run's id). */
  onRun?: (runId: string, cls: PlannedAction['class']) => void;
  /** Called about once a second with progress, for a TTY progress line. */
  /** `expected`: runs the catalogue already holds for the source being crawled (0 on a first load), for an ETA. */
  onProgress?: (p: { source: string; found: number; written: number; expected: number; elapsedMs: number }) => void;
}

/** Beyond this many touched rollup buckets an incremental rollup is no cheaper than a full one. */
const MAX_TOUCHED = 50_000;

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
    touched: [],
  };
  const { config, client } = ctx;
  if (!opts.dryRun) {
    await applyIndices(client, config);
    if (!opts.backfill && (await restoreAfterCrash(backfillTarget(ctx)))) {
      ctx.log.warn({ index: config.indices.runs }, 'Restored index settings left by an interrupted backfill');
    }
  }
  const touched = new Set<string>();
  const index = config.indices.runs;
  const drivers = new Map<string, SourceDriver>();
  const guard = createIdentityGuard({
    client,
    index,
    driverFor(root) {
      const source = config.sources.find((s) => s.name === root);
      if (!source) {
        return null;
      }
      let driver = drivers.get(root);
      if (!driver) {
        driver = createDriver(source);
        drivers.set(root, driver);
      }
      return driver;
    },
  });
  const sources = config.sources.filter((s) => !opts.sources || opts.sources.includes(s.name));
  const work = async () => {
    const parser = opts.parser ?? createParsePool({ sources, workers: opts.dryRun ? 0 : config.sync.parse_workers });
    try {
      for (const source of sources) {
        if (ctx.signal.aborted) {
          report.status = 'aborted';
          break;
        }
        const sourceReport = await syncSource(ctx, source, opts, report, { touched, guard, parser });
        report.sources.push(sourceReport);
      }
    } finally {
      if (!opts.parser) {
        await parser.close();
      }
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
      throw Object.assign(err as Error, { report: finish(ctx, report, touched) });
    }
  }
  finish(ctx, report, touched);
  if (report.counts.failed > 0 || report.sources.some((s) => s.error)) {
    report.status = report.status === 'ok' ? 'failed' : report.status;
  }
  if (!opts.dryRun) {
    await client.index({ index: config.indices.sync_runs, id: report.sync_id, document: indexableReport(report), refresh: true });
    await client.indices.refresh({ index });
  }
  return report;
}

// --- internal ---

function backfillTarget(ctx: AppContext) {
  const { client, config, log } = ctx;
  return { client, leases: config.indices.leases, runs: config.indices.runs, ttlMs: durationMs(config.schedule.lease_ttl), now: ctx.now, log };
}

function finish(ctx: AppContext, report: SyncReport, touched: Set<string>): SyncReport {
  const end = ctx.now();
  report.finished_at = end.toISOString();
  report.duration_ms = end.getTime() - new Date(report.started_at).getTime();
  report.throughput_runs_per_s = report.duration_ms > 0 ? Math.round((report.counts.found / report.duration_ms) * 1000 * 10) / 10 : 0;
  report.touched = touched.size > MAX_TOUCHED ? ['*'] : [...touched].sort();
  return report;
}

interface SyncShared {
  touched: Set<string>;
  guard: IdentityGuard;
  parser: ParsePool;
}

async function syncSource(ctx: AppContext, source: SourceConfig, opts: SyncOptions, report: SyncReport, shared: SyncShared): Promise<SourceReport> {
  const { touched, guard, parser } = shared;
  const { config, client, log } = ctx;
  // The crawl lists a whole root: worth a listing thread (the parsers' short listings are not).
  const driver = createDriver(source, { longListings: true });
  const sourceReport: SourceReport = { name: source.name, kind: source.kind, complete: true, runs: 0, warnings: 0, error: null };
  const buckets = opts.shard ? Array.from({ length: SHARD_BUCKETS }, (_, b) => b).filter((b) => b % (opts.shard?.count ?? 1) === opts.shard?.index) : undefined;
  const prefixes = opts.mode === 'incremental' && opts.prefixes?.length ? sortPrefixes(opts.prefixes) : undefined;
  const scanOpts = { index: config.indices.runs, root: source.name, ...(prefixes ? { prefixes } : {}), ...(buckets ? { buckets } : {}) };
  const activeBefore = await countActiveRuns(client, scanOpts);
  const writer = createBulkWriter({
    client,
    index: config.indices.runs,
    flushBytes: config.sync.bulk_flush_bytes,
    concurrency: config.sync.bulk_concurrency,
    retries: config.sync.bulk_retries,
  });
  // Only a full listing of a whole root can tell that a run is gone.
  const marksVanished = opts.mode === 'full' && !opts.prefixes?.length;
  const vanishMarks: IndexedRun[] = [];
  const graceMs = durationMs(config.sync.vanish_grace);
  const now = ctx.now();
  const pool = createPool(config.sync.parse_concurrency);
  const startedMs = Date.now();
  let lastProgress = 0;

  const crawl = crawlRuns(driver, prefixes ?? [''], opts, sourceReport, log);
  const indexed = scanIndexedRuns(client, scanOpts);
  try {
    for await (const action of planActions(crawl, indexed, { parserVersion: PARSER_VERSION, now })) {
      if (ctx.signal.aborted) {
        report.status = 'aborted';
        sourceReport.complete = false;
        break;
      }
      if (action.crawled) {
        report.counts.found += 1;
        sourceReport.runs += 1;
      }
      await handle(action);
      if (opts.onProgress && Date.now() - lastProgress > 1000) {
        lastProgress = Date.now();
        opts.onProgress({ source: source.name, found: sourceReport.runs, written: writer.stats.written, expected: activeBefore, elapsedMs: Date.now() - startedMs });
      }
    }
  } catch (err) {
    sourceReport.complete = false;
    sourceReport.error = errorMessage(err);
    log.error({ source: source.name, err }, 'Source listing failed; nothing will be marked vanished');
  }
  await pool.drain();
  report.durations_ms.list += Date.now() - startedMs;

  if (marksVanished) {
    if (sourceReport.complete && sourceReport.runs === 0 && activeBefore > 0) {
      sourceReport.complete = false;
      sourceReport.error = `listed empty but the catalogue holds ${activeBefore} active runs of this root (stale mount or wrong path?); nothing marked vanished`;
    }
    const vanishStart = Date.now();
    await applyVanishMarks(ctx, { source, sourceReport, report, opts, activeBefore, vanishMarks, writer, graceMs, now, touched });
    report.durations_ms.vanish += Date.now() - vanishStart;
  }
  const bulkStart = Date.now();
  const stats = await writer.flush();
  report.durations_ms.bulk += Date.now() - bulkStart;
  report.counts.written += stats.written;
  report.counts.indexed += stats.indexed;
  report.counts.failed += stats.failed.length;
  for (const failure of stats.failed) {
    addError(report, { run_id: failure.id, code: `bulk-${failure.status}`, message: `${failure.type}: ${failure.reason}` });
  }
  // Refused documents were replaced by a parse_error document of the run (written, so not a failure).
  report.counts.parse_errors += stats.replaced.length;
  for (const refused of stats.replaced) {
    addError(report, { run_id: refused.id, code: 'rejected-by-engine', message: `${refused.type}: ${refused.reason}` });
  }
  await driver.dispose?.();
  return sourceReport;

  async function handle(action: PlannedAction): Promise<void> {
    const label = action.crawled?.run.listing.dir ?? action.indexed?.path ?? '';
    if (action.crawled && action.indexed && (action.class === 'unchanged' || action.class === 'retired')) {
      opts.onRun?.(action.indexed.run_id, action.class);
    }
    switch (action.class) {
      case 'unchanged':
        report.counts.unchanged += 1;
        return;
      case 'status-updated':
        await updateStatus(action);
        return;
      case 'still-vanished':
        return;
      case 'retired':
        report.counts.retired += 1;
        return;
      case 'vanished':
        if (marksVanished) {
          vanishMarks.push(action.indexed as IndexedRun);
        }
        return;
      default:
        break;
    }
    const crawled = action.crawled as CrawledRun;
    if (opts.since && action.class !== 'new' && crawled.newestMtime < opts.since.getTime() && action.reason === 'fingerprint') {
      report.counts.unchanged += 1;
      opts.onRun?.(action.indexed?.run_id ?? '', 'unchanged');
      return;
    }
    report.counts[action.class] += 1;
    addSample(report, action.class, action.indexed?.run_id ?? label);
    if (opts.dryRun) {
      return;
    }
    if (action.class === 'reappeared' && action.indexed && action.indexed.fingerprint === crawled.fingerprint && action.indexed.parser_version === PARSER_VERSION) {
      opts.onRun?.(action.indexed.run_id, 'reappeared');
      const status = action.status ? await confirmStatus(driver, action.indexed, action.status, now) : null;
      const statusDoc = status ? { status: status.status, status_evidence: status.evidence } : {};
      await writer.add({ op: 'update', id: action.indexed.run_id, doc: { state: 'active', vanished_at: null, vanish_reason: null, missing_since: null, ...statusDoc } });
      return;
    }
    await pool.run(async () => {
      try {
        await parseAndWrite(action, crawled);
      } catch (err) {
        report.counts.failed += 1;
        addError(report, { run_id: action.indexed?.run_id ?? label, code: (err as { code?: string }).code ?? 'parse-failed', message: errorMessage(err) });
      }
    });
  }

  /** An unchanged run whose status the clock moved: a partial update, conditional on the scanned version, no file read. */
  async function updateStatus(action: PlannedAction): Promise<void> {
    const indexed = action.indexed as IndexedRun;
    const status = await confirmStatus(driver, indexed, action.status as DerivedStatus, now);
    if (status === null) {
      report.counts.unchanged += 1;
      return;
    }
    report.counts.status_updated += 1;
    addSample(report, 'status-updated', indexed.run_id);
    if (opts.dryRun) {
      return;
    }
    for (const key of [...indexed.rollup_keys, `run:${indexed.run_id}`]) {
      touch(touched, key);
    }
    await writer.add({ op: 'update', id: indexed.run_id, doc: { status: status.status, status_evidence: status.evidence }, ifSeqNo: indexed.seq_no, ifPrimaryTerm: indexed.primary_term });
  }

  async function parseAndWrite(action: PlannedAction, crawled: CrawledRun): Promise<void> {
    const parseStart = Date.now();
    const parsed = await parser.parse(source, crawled.run, now);
    const identity = action.indexed?.run_id === parsed.run_id ? { runId: parsed.run_id, copyOf: null } : await guard.resolve(parsed);
    const record = { ...parsed, run_id: identity.runId };
    report.durations_ms.parse += Date.now() - parseStart;
    if (record.status === 'parse_error') {
      report.counts.parse_errors += 1;
    }
    const doc = toRunDoc(record, { now, firstSeenAt: action.indexed?.first_seen_at ?? null, copyOf: identity.copyOf });
    for (const key of [...doc.rollup_keys, ...(action.indexed?.rollup_keys ?? []), `run:${doc.run_id}`]) {
      touch(touched, key);
    }
    opts.onRun?.(doc.run_id, action.class);
    await writer.add({ op: 'index', id: doc.run_id, doc: doc as unknown as Record<string, unknown>, fallback: rejectedDocFactory(doc) });
    if (action.indexed && action.indexed.run_id !== doc.run_id) {
      // Same folder, new identity (its config or run-id file changed): the old document is superseded.
      touch(touched, `run:${action.indexed.run_id}`);
      await writer.add({
        op: 'update',
        id: action.indexed.run_id,
        doc: { state: 'vanished', vanished_at: now.toISOString(), vanish_reason: 'replaced', missing_since: null },
        ifSeqNo: action.indexed.seq_no,
        ifPrimaryTerm: action.indexed.primary_term,
      });
    }
  }
}

interface VanishInput {
  source: SourceConfig;
  sourceReport: SourceReport;
  report: SyncReport;
  opts: SyncOptions;
  activeBefore: number;
  vanishMarks: IndexedRun[];
  writer: BulkWriter;
  graceMs: number;
  now: Date;
  touched: Set<string>;
}

async function applyVanishMarks(ctx: AppContext, v: VanishInput): Promise<void> {
  const { sourceReport, report, vanishMarks, writer, now } = v;
  if (vanishMarks.length === 0) {
    return;
  }
  if (!sourceReport.complete) {
    ctx.log.warn({ source: v.source.name, candidates: vanishMarks.length, reason: sourceReport.error ?? `${sourceReport.warnings} listing warnings` }, 'Vanish marks skipped: listing incomplete');
    return;
  }
  const due = new Set(vanishMarks.filter((run) => v.graceMs === 0 || (run.missing_since !== null && now.getTime() - Date.parse(run.missing_since) >= v.graceMs)));
  const share = v.activeBefore > 0 ? due.size / v.activeBefore : 0;
  if (share > ctx.config.sync.max_vanish_share && !v.opts.allowMassVanish) {
    throw new ReconcileError(
      'mass-vanish',
      `source ${v.source.name}: ${due.size} of ${v.activeBefore} runs (${Math.round(share * 100)} %) would be marked vanished, over the limit of ${Math.round(ctx.config.sync.max_vanish_share * 100)} %; a stale mount looks like this. Nothing was marked. Re-run with --allow-mass-vanish if the runs are really gone.`,
    );
  }
  for (const run of vanishMarks) {
    const isDue = due.has(run);
    if (!isDue && run.missing_since !== null) {
      continue;
    }
    addSample(report, 'vanished', run.run_id);
    if (isDue) {
      report.counts.vanished += 1;
      for (const key of [...run.rollup_keys, `run:${run.run_id}`]) {
        touch(v.touched, key);
      }
    }
    if (v.opts.dryRun) {
      continue;
    }
    const doc = isDue ? { state: 'vanished', vanished_at: now.toISOString(), vanish_reason: 'not-found', missing_since: run.missing_since ?? now.toISOString() } : { missing_since: now.toISOString() };
    // Conditional on the scanned version: a run that moved and was re-indexed during this sync is left alone.
    await writer.add({ op: 'update', id: run.run_id, doc, ifSeqNo: run.seq_no, ifPrimaryTerm: run.primary_term });
  }
}

async function* crawlRuns(driver: SourceDriver, prefixes: string[], opts: SyncOptions, sourceReport: SourceReport, log: AppContext['log']): AsyncGenerator<CrawledRun> {
  for (const prefix of prefixes) {
    for await (const item of discoverRuns(driver, prefix, adapters, opts.shard ? { shard: opts.shard } : {})) {
      if (item.kind === 'warning') {
        sourceReport.warnings += 1;
        sourceReport.complete = false;
        log.warn({ key: item.key, code: item.code, detail: item.message }, 'Listing warning');
        continue;
      }
      const newestMtime = item.listing.entries.reduce((max, e) => Math.max(max, e.mtime), 0);
      yield { sortKey: runSortKey(item.listing.dir), fingerprint: listingFingerprint(item.listing.dir, item.listing.entries), newestMtime, run: item };
    }
  }
}

/** Records a touched rollup bucket; past MAX_TOUCHED the set stops growing (the rollup will be a full one anyway). */
function touch(touched: Set<string>, key: string): void {
  if (touched.size <= MAX_TOUCHED) {
    touched.add(key);
  }
}

function sortPrefixes(prefixes: string[]): string[] {
  return [...new Set(prefixes.map((p) => p.replace(/^\/+|\/+$/g, '')))].sort((a, b) => compareKeys(runSortKey(a), runSortKey(b)));
}

/** A tiny bounded-concurrency pool: `run` waits while the pool is full, `drain` waits for everything. */
function createPool(size: number) {
  const active = new Set<Promise<void>>();
  return {
    async run(task: () => Promise<void>): Promise<void> {
      while (active.size >= size) {
        await Promise.race(active);
      }
      const p: Promise<void> = task().finally(() => active.delete(p));
      active.add(p);
    },
    async drain(): Promise<void> {
      await Promise.all(active);
    },
  };
}
