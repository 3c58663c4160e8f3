import type { AppContext } from '../context.ts';
import { ensureIndexFields } from '../es/indices.ts';
import { PipelineError } from '../errors.ts';
import { createBulkWriter, type BulkWriter } from '../es/bulk.ts';
import { runMemberDoc, WATERMARK_ID, watermarkDoc } from './compute.ts';
import { accumulatorFor, type RollupAccumulator } from './curve.ts';
import type { RollupSpool } from './spool.ts';
import { isCurveKey, writeStamp } from './keys.ts';
import {
  collectIds,
  COUNTED_RUNS,
  MEMBERSHIP_FIELDS,
  hasRetiredDocs,
  isCounted,
  readMembers,
  readWatermark,
  scanRunPages,
  type Membership,
  type ScannedRun,
} from './store.ts';

export interface RollupOptions {
  /** Recompute every bucket from every run, whatever the watermark says. */
  full?: boolean;
  /** The runs the sync before this call wrote (spool.ts): read instead of the index when it holds exactly them. */
  spool?: RollupSpool;
}

export interface RollupReport {
  mode: 'full' | 'incremental';
  /** Where the runs were read: the runs index, or the documents the sync just wrote (a first load; see spool.ts). */
  runsFrom: 'index' | 'sync';
  /** Runs written since the last completed rollup (incremental mode). */
  dirtyRuns: number;
  buckets: number;
  /** Per-epoch documents written by the curve buckets (`curve`, `curve_rank`), one per bucket and epoch. */
  curveDocs: number;
  deleted: number;
  written: number;
  failed: number;
  /** The new watermark (ISO time of the write stamp rollups are now complete up to). */
  watermark: string;
  durationMs: number;
}

/**
 * Runs stamped this long before the last completed rollup are read again: a write stamped just before
 * a rollup started can become visible only after that rollup's scan (bulk retries, refresh). Re-reading
 * a run only recomputes its buckets once more.
 */
export const STAMP_OVERLAP_MS = 15 * 60_000;
/** Past this many dirty runs (or buckets) one pass over every run is cheaper than bucket queries. */
export const MAX_DIRTY_RUNS = 20_000;
export const MAX_DIRTY_BUCKETS = 20_000;
/** Requests of this size let the engine index one while the next is computed (a pass writes a few MB at once). */
const ROLLUP_FLUSH_BYTES = 1 << 20;
/** Slices the full recomputation reads side by side. */
const FULL_SCAN_SLICES = 2;
/** Bucket keys per recomputation query (one terms query, runs streamed). */
const BUCKET_BATCH = 200;

/**
 * Brings the rollup index up to date with the runs index. The pending work is durable: every run write
 * carries a `rollup_stamp`, and a watermark doc records the stamp up to which rollups completed. Each call
 * recomputes the buckets of the runs written since then (the buckets a run joined, from its document,
 * and the ones it left, from its `run_member` doc), and only then advances the watermark. A killed or
 * failed sync or rollup therefore leaves work that the next call finds. Without a watermark (first call,
 * `full`, or a full recomputation cut short), or with documents of a kind this build no longer writes,
 * every bucket is recomputed (which deletes whatever it does not produce).
 */
export async function runRollups(ctx: AppContext, opts: RollupOptions = {}): Promise<RollupReport> {
  const started = Date.now();
  let stamp = writeStamp();
  const { client, config } = ctx;
  const index = config.indices.rollups;
  await ensureIndexFields(client, index, 'rollups');
  const spool = opts.spool && (await spoolMatchesIndex(ctx, opts.spool)) ? opts.spool : null;
  const flushBytes = Math.min(config.sync.bulk_flush_bytes, ROLLUP_FLUSH_BYTES);
  const writer = createBulkWriter({ client, index, flushBytes, concurrency: 1, retries: config.sync.bulk_retries });
  const report: RollupReport = {
    mode: 'incremental',
    runsFrom: 'index',
    dirtyRuns: 0,
    buckets: 0,
    curveDocs: 0,
    deleted: 0,
    written: 0,
    failed: 0,
    watermark: new Date(stamp).toISOString(),
    durationMs: 0,
  };
  if (spool) {
    // Another writer may have replaced one of these runs' documents while the sync ran (same count): the next
    // pass re-reads every run stamped since the spool was armed, so the watermark stays within its overlap.
    stamp = Math.min(stamp, spool.armedAt + STAMP_OVERLAP_MS);
    report.watermark = new Date(stamp).toISOString();
    report.mode = 'full';
    report.runsFrom = 'sync';
    await recomputeAll(ctx, writer, report, countedOnly(spool.pages()));
  } else {
    const watermark = opts.full || (await hasRetiredDocs(client, index)) ? null : await readWatermark(client, index);
    const incremental = watermark === null ? false : await recomputeDirty(ctx, writer, report, watermark - STAMP_OVERLAP_MS);
    if (!incremental) {
      report.mode = 'full';
      // Sums are exact and order-free (ExactSum, sorted losses): the runs may come in any order, so the engine reads two slices at once.
      await recomputeAll(ctx, writer, report, scanRunPages(client, config.indices.runs, COUNTED_RUNS, undefined, FULL_SCAN_SLICES));
    }
  }
  await flushOrThrow(writer, report, 'rollup documents');
  await client.index({ index, id: WATERMARK_ID, document: watermarkDoc(stamp, ctx.now()), refresh: true });
  report.written = writer.stats.written;
  report.durationMs = Date.now() - started;
  return report;
}

// --- internal ---

/**
 * Incremental: per page of dirty runs, gather the buckets they joined and left; recompute those buckets;
 * only after that is flushed, record the runs' new memberships. False when there is too much to do
 * incrementally.
 */
async function recomputeDirty(ctx: AppContext, writer: BulkWriter, report: RollupReport, since: number): Promise<boolean> {
  const { client, config } = ctx;
  const now = ctx.now();
  const dirtyBuckets = new Set<string>();
  const members = new Map<string, { keys: string[] | null; stamp: number | null }>();
  // Only membership fields: the values are read by the bucket recomputation, for the runs that turn out dirty.
  for await (const scanned of scanRunPages(client, config.indices.runs, { range: { rollup_stamp: { gte: since } } }, MEMBERSHIP_FIELDS)) {
    const before = await readMembers(
      client,
      config.indices.rollups,
      scanned.map((run) => run.run_id),
    );
    // The overlap re-reads recent writes; one an earlier pass counted as it is now (same stamp, same
    // buckets) is not work: a no-op resync right after a backfill recomputes nothing.
    const page = scanned.filter((run) => !alreadyCounted(run, before.get(run.run_id)));
    if (members.size + page.length > MAX_DIRTY_RUNS) {
      return false;
    }
    for (const run of page) {
      const keys = isCounted(run) ? run.rollup_keys : [];
      for (const key of [...keys, ...(before.get(run.run_id)?.keys ?? [])]) {
        dirtyBuckets.add(key);
      }
      members.set(run.run_id, { keys: isCounted(run) ? keys : null, stamp: run.rollup_stamp ?? null });
    }
    if (dirtyBuckets.size > MAX_DIRTY_BUCKETS) {
      return false;
    }
  }
  report.dirtyRuns = members.size;
  const keys = [...dirtyBuckets].sort();
  for (let at = 0; at < keys.length; at += BUCKET_BATCH) {
    await recomputeBuckets(ctx, writer, report, keys.slice(at, at + BUCKET_BATCH), now);
  }
  // A membership written before its buckets would hide the buckets a run left if this call dies here.
  await flushOrThrow(writer, report, 'bucket documents');
  for (const [runId, { keys, stamp }] of members) {
    const member = runMemberDoc(runId, keys ?? [], now, stamp);
    await writer.add(keys === null ? { op: 'delete', id: member.id } : { op: 'index', ...member });
  }
  return true;
}

/** A counted run whose membership records this very write (its stamp) and these buckets; an uncounted run with no membership. */
function alreadyCounted(run: ScannedRun, member: Membership | undefined): boolean {
  if (!isCounted(run)) {
    return member === undefined;
  }
  if (member === undefined || member.stamp === null || member.stamp !== (run.rollup_stamp ?? null)) {
    return false;
  }
  return member.keys.length === run.rollup_keys.length && [...run.rollup_keys].sort().every((key, i) => member.keys[i] === key);
}

/**
 * Recomputes a batch of buckets from their counted runs; a bucket left without runs is deleted, and so
 * is every curve document of these buckets that the recomputation no longer produces (an epoch no run
 * reaches any more, or the whole curve).
 */
async function recomputeBuckets(ctx: AppContext, writer: BulkWriter, report: RollupReport, keys: string[], now: Date): Promise<void> {
  const accumulators = new Map(keys.map((key) => [key, accumulatorFor(key)]));
  const seen = new Set<string>();
  const query = { bool: { filter: [COUNTED_RUNS, { terms: { rollup_keys: keys } }] } };
  for await (const page of scanRunPages(ctx.client, ctx.config.indices.runs, query)) {
    for (const run of page) {
      for (const key of run.rollup_keys) {
        const acc = accumulators.get(key);
        if (acc) {
          acc.add(run);
          seen.add(key);
        }
      }
    }
  }
  // What the batch's buckets may have written before: their curve docs, and the one doc of every other bucket.
  const curveKeys = keys.filter(isCurveKey);
  const stale = curveKeys.length > 0 ? await collectIds(ctx.client, ctx.config.indices.rollups, { terms: { key: curveKeys } }) : new Set<string>();
  for (const key of keys) {
    if (!isCurveKey(key)) {
      stale.add(key);
    }
  }
  for (const [key, acc] of accumulators) {
    if (seen.has(key)) {
      await writeBucket(writer, report, acc, now, stale);
    }
  }
  report.deleted += await deleteIds(writer, stale);
}

/**
 * Full: one pass over every counted run. The watermark goes first, so a pass cut short is redone in full
 * (memberships written along the way would otherwise hide the buckets their runs left).
 */
async function recomputeAll(ctx: AppContext, writer: BulkWriter, report: RollupReport, runs: AsyncIterable<ScannedRun[]>): Promise<void> {
  const { client, config } = ctx;
  const index = config.indices.rollups;
  const now = ctx.now();
  await client.delete({ index, id: WATERMARK_ID, refresh: true }, { ignore: [404] });
  const stale = await collectIds(client, index, { bool: { must_not: [{ ids: { values: [WATERMARK_ID] } }] } });
  const accumulators = new Map<string, RollupAccumulator>();
  for await (const page of runs) {
    for (const run of page) {
      for (const key of run.rollup_keys) {
        let acc = accumulators.get(key);
        if (!acc) {
          acc = accumulatorFor(key);
          accumulators.set(key, acc);
        }
        acc.add(run);
      }
      const member = runMemberDoc(run.run_id, run.rollup_keys, now, run.rollup_stamp ?? null);
      stale.delete(member.id);
      await writer.add({ op: 'index', ...member });
    }
  }
  for (const acc of accumulators.values()) {
    await writeBucket(writer, report, acc, now, stale);
  }
  report.deleted += await deleteIds(writer, stale);
}

/** Writes a bucket's documents; each id written is no longer stale. */
async function writeBucket(writer: BulkWriter, report: RollupReport, acc: RollupAccumulator, now: Date, stale: Set<string>): Promise<void> {
  const docs = acc.docs(now);
  report.buckets += docs.length > 0 ? 1 : 0;
  for (const { id, doc } of docs) {
    stale.delete(id);
    report.curveDocs += isCurveKey(acc.key) ? 1 : 0;
    await writer.add({ op: 'index', id, doc });
  }
}

/**
 * Whether the runs index holds exactly the documents the spool recorded: nothing else wrote to it (the
 * spool was armed on an index without runs and recorded every write, so equal counts mean the same documents).
 */
async function spoolMatchesIndex(ctx: AppContext, spool: RollupSpool): Promise<boolean> {
  if (!spool.recording) {
    return false;
  }
  const index = ctx.config.indices.runs;
  await ctx.client.indices.refresh({ index });
  const { count } = await ctx.client.count({ index });
  if (count !== spool.runs) {
    spool.poison(`the runs index holds ${count} documents, the sync wrote ${spool.runs}`);
    ctx.log.info({ count, written: spool.runs }, 'Rollups read the runs index: it holds documents this sync did not write');
  }
  return count === spool.runs;
}

async function* countedOnly(pages: AsyncIterable<ScannedRun[]>): AsyncGenerator<ScannedRun[]> {
  for await (const page of pages) {
    yield page.filter(isCounted);
  }
}

async function deleteIds(writer: BulkWriter, ids: Set<string>): Promise<number> {
  for (const id of ids) {
    await writer.add({ op: 'delete', id });
  }
  return ids.size;
}

/** Sends what is pending; any document that did not make it fails the rollup (and leaves the watermark where it was). */
async function flushOrThrow(writer: BulkWriter, report: RollupReport, what: string): Promise<void> {
  const stats = await writer.flush();
  report.failed = stats.failed.length;
  if (stats.failed.length > 0) {
    const first = stats.failed[0];
    throw new PipelineError(
      'rollups-failed',
      `[rollups] ${stats.failed.length} ${what} not written (first: ${first?.id}: ${first?.status} ${first?.type}: ${first?.reason}); the watermark stays, the next sync or rollups run redoes the work`,
    );
  }
}
