import type { AppContext } from '../context.ts';
import type { SourceConfig } from '../config/schema.ts';
import type { BulkWriter } from '../es/bulk.ts';
import { ReconcileError } from '../errors.ts';
import { writeStamp } from '../rollups/keys.ts';
import type { SyncOptions } from './options.ts';
import { addSample, type SourceReport, type SyncReport } from './report.ts';
import type { IndexedRun } from './scan.ts';

export interface VanishInput {
  source: SourceConfig;
  sourceReport: SourceReport;
  report: SyncReport;
  opts: SyncOptions;
  activeBefore: number;
  vanishMarks: IndexedRun[];
  writer: BulkWriter;
  graceMs: number;
  now: Date;
}

/**
 * Marks runs a complete listing no longer found: first `missing_since`, then vanished once the grace period
 * has passed; never when the listing was incomplete, and never more than `max_vanish_share` without consent.
 */
export async function applyVanishMarks(ctx: AppContext, v: VanishInput): Promise<void> {
  const { sourceReport, report, vanishMarks, writer, now } = v;
  if (vanishMarks.length === 0) {
    return;
  }
  if (!sourceReport.complete) {
    ctx.log.warn(
      { source: v.source.name, candidates: vanishMarks.length, reason: sourceReport.error ?? `${sourceReport.warnings} listing warnings` },
      'Vanish marks skipped: listing incomplete',
    );
    return;
  }
  const due = new Set(
    vanishMarks.filter((run) => v.graceMs === 0 || (run.missing_since !== null && now.getTime() - Date.parse(run.missing_since) >= v.graceMs)),
  );
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
    }
    if (v.opts.dryRun) {
      continue;
    }
    const doc = isDue
      ? {
          state: 'vanished',
          vanished_at: now.toISOString(),
          vanish_reason: 'not-found',
          missing_since: run.missing_since ?? now.toISOString(),
          rollup_stamp: writeStamp(),
        }
      : { missing_since: now.toISOString() };
    // Conditional on the scanned version: a run that moved and was re-indexed during this sync is left alone.
    await writer.add({ op: 'update', id: run.run_id, doc, ifSeqNo: run.seq_no, ifPrimaryTerm: run.primary_term });
  }
}
