import type { SourceConfig } from '../config/schema.ts';
import type { BulkOp, BulkWriter } from '../es/bulk.ts';
import type { RollupSpool } from '../rollups/spool.ts';
import { errorMessage } from '../errors.ts';
import type { DerivedStatus } from '../formats/kit/run-status.ts';
import type { Pool } from '../pool.ts';
import { PARSER_VERSION } from '../record/schema.ts';
import { writeStamp } from '../rollups/keys.ts';
import type { SourceDriver } from '../sources/types.ts';
import { rejectedDocFactory } from './doc.ts';
import type { HeadStart } from './head-start.ts';
import type { IdentityGuard } from './identity-guard.ts';
import type { SyncOptions } from './options.ts';
import { decodeDoc, encodeDoc, withIdentity, type ParsedRun, type ParsePool } from './parse-pool.ts';
import type { CrawledRun, PlannedAction } from './plan.ts';
import { addError, addSample, SAMPLE_SIZE, type SyncReport } from './report.ts';
import { confirmStatus } from './restatus.ts';
import type { IndexedRun } from './scan.ts';

/** What applying one source's planned actions works with. */
export interface ApplyInput {
  source: SourceConfig;
  opts: SyncOptions;
  report: SyncReport;
  driver: SourceDriver;
  writer: BulkWriter;
  parser: ParsePool;
  guard: IdentityGuard;
  /** The runs read ahead of the merge (head-start.ts): a new run's read is taken from there. */
  headStart: HeadStart | null;
  /** Bounds the runs being read at once (`sync.parse_concurrency`). */
  pool: Pool;
  /**
   * Bounds the parsed runs waiting for their identity check and their place in a bulk request: a parse slot
   * is freed as soon as the run is parsed, so identity lookups batch up (one `_mget` for many runs) instead
   * of each holding a parse slot for a round trip.
   */
  settle: Pool;
  now: Date;
  /** Whether this sync may mark runs vanished (a full listing of a whole root); the candidates are collected here. */
  marksVanished: boolean;
  vanishMarks: IndexedRun[];
}

/** Carries out one planned action: counts it, and writes what it changes (a re-read run, a status, a reappearance). */
export function createApplier(a: ApplyInput): (action: PlannedAction) => Promise<void> {
  const { opts, report, writer, now } = a;
  return async function apply(action) {
    const label = action.crawled?.run.listing.dir ?? action.indexed?.path ?? '';
    // Taken whatever the action, so a read the merge does not use is dropped as the merge passes it.
    const readAhead = action.crawled ? a.headStart?.takeRead(action.crawled) : undefined;
    if (action.crawled && action.indexed && (action.class === 'unchanged' || action.class === 'retired')) {
      opts.onRun?.(action.indexed.run_id, action.class);
    }
    switch (action.class) {
      case 'unchanged':
        report.counts.unchanged += 1;
        return;
      case 'status-updated':
        await updateStatus(a, action);
        return;
      case 'still-vanished':
        return;
      case 'retired':
        report.counts.retired += 1;
        return;
      case 'vanished':
        if (a.marksVanished) {
          a.vanishMarks.push(action.indexed as IndexedRun);
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
    if (
      action.class === 'reappeared' &&
      action.indexed &&
      action.indexed.fingerprint === crawled.fingerprint &&
      action.indexed.parser_version === PARSER_VERSION
    ) {
      opts.onRun?.(action.indexed.run_id, 'reappeared');
      const status = action.status ? await confirmStatus(a.driver, action.indexed, action.status, now) : null;
      const statusDoc = status ? { status: status.status, status_evidence: status.evidence } : {};
      await writer.add({
        op: 'update',
        id: action.indexed.run_id,
        doc: { state: 'active', vanished_at: null, vanish_reason: null, missing_since: null, rollup_stamp: writeStamp(), ...statusDoc },
      });
      return;
    }
    const fail = (err: unknown) => {
      report.counts.failed += 1;
      addError(report, { run_id: action.indexed?.run_id ?? label, code: (err as { code?: string }).code ?? 'parse-failed', message: errorMessage(err) });
    };
    await a.pool.run(async () => {
      let parsed: ParsedRun;
      try {
        parsed = readAhead && action.class === 'new' ? await readAhead : await parseRun(a, action, crawled);
      } catch (err) {
        fail(err);
        return;
      }
      await a.settle.run(() => settleAndWrite(a, action, parsed).catch(fail));
    });
  };
}

// --- internal ---

/** An unchanged run whose status the clock moved: a partial update, conditional on the scanned version, no file read. */
async function updateStatus(a: ApplyInput, action: PlannedAction): Promise<void> {
  const { report } = a;
  const indexed = action.indexed as IndexedRun;
  const status = await confirmStatus(a.driver, indexed, action.status as DerivedStatus, a.now);
  if (status === null) {
    report.counts.unchanged += 1;
    return;
  }
  report.counts.status_updated += 1;
  addSample(report, 'status-updated', indexed.run_id);
  if (a.opts.dryRun) {
    return;
  }
  await a.writer.add({
    op: 'update',
    id: indexed.run_id,
    doc: { status: status.status, status_evidence: status.evidence, rollup_stamp: writeStamp() },
    ifSeqNo: indexed.seq_no,
    ifPrimaryTerm: indexed.primary_term,
  });
}

async function parseRun(a: ApplyInput, action: PlannedAction, crawled: CrawledRun): Promise<ParsedRun> {
  const parseStart = Date.now();
  const parsed = await a.parser.parse(a.source, crawled.run, {
    now: a.now,
    firstSeenAt: action.indexed?.first_seen_at ?? null,
    rollupView: a.opts.rollupSpool?.recording ?? false,
  });
  a.report.durations_ms.parse += Date.now() - parseStart;
  return parsed;
}

/** Decides the id a parsed run is written under (see the identity guard), counts it and hands it to the bulk writer. */
async function settleAndWrite(a: ApplyInput, action: PlannedAction, parsed: ParsedRun): Promise<void> {
  const { report, now } = a;
  const identity =
    action.indexed?.run_id === parsed.runId ? { runId: parsed.runId, copyOf: null } : await a.guard.resolve({ run_id: parsed.runId, source: parsed });
  if (parsed.status === 'parse_error') {
    report.counts.parse_errors += 1;
    if (parsed.parseError && report.parse_error_sample.length < SAMPLE_SIZE) {
      report.parse_error_sample.push(parsed.parseError);
    }
  }
  const runId = identity.runId;
  a.opts.onRun?.(runId, action.class);
  const doc = withIdentity(parsed, identity.runId, identity.copyOf);
  // Rare (the engine refused the document): rebuilt from the JSON only then.
  const fallback = (reason: string) => rejectedDocFactory(decodeDoc({ doc }))(reason);
  await a.writer.add({ op: 'index-bytes', id: runId, doc, fallback, ...spoolWrite(a.opts.rollupSpool, parsed, identity) });
  if (action.indexed && action.indexed.run_id !== runId) {
    // Same folder, new identity (its config or run-id file changed): the old document is superseded.
    await a.writer.add({
      op: 'update',
      id: action.indexed.run_id,
      doc: { state: 'vanished', vanished_at: now.toISOString(), vanish_reason: 'replaced', missing_since: null, rollup_stamp: writeStamp() },
      ifSeqNo: action.indexed.seq_no,
      ifPrimaryTerm: action.indexed.primary_term,
    });
  }
}

/** What the rollup spool records once the engine acknowledged a run's document: its view, under the id it was written with. */
function spoolWrite(
  spool: RollupSpool | undefined,
  parsed: ParsedRun,
  identity: { runId: string; copyOf: string | null },
): Pick<BulkOp & { op: 'index-bytes' }, 'onWritten'> {
  if (!spool?.recording) {
    return {};
  }
  const view = parsed.rollupView;
  if (!view) {
    spool.poison(`run ${identity.runId} was read without its rollup view`);
    return {};
  }
  const written = identity.runId === parsed.runId ? view : encodeDoc({ ...decodeDoc({ doc: view }), run_id: identity.runId });
  return {
    onWritten: (replaced) => (replaced ? spool.poison(`the engine refused run ${identity.runId}; its fallback document was written`) : spool.written(written)),
  };
}
