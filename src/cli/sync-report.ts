// What a sync prints and records after the crawl: the rollup phase's outcome and the report's text.
import type { AppContext } from '../context.ts';
import { errorMessage } from '../errors.ts';
import { runRollups, type RollupReport } from '../rollups/run.ts';
import type { RollupSpool } from '../rollups/spool.ts';
import type { SyncReport } from '../sync/report.ts';

/** Exit code of a full sync that wrote everything but could not list some root completely (no vanish marks there). */
export const EXIT_INCOMPLETE_LISTING = 6;

/** Roots a full sync should have checked for vanished runs but could not (incomplete listing). */
export function unmarkedRoots(report: SyncReport): SyncReport['sources'] {
  return report.mode === 'full' && !report.dry_run ? report.sources.filter((s) => !s.complete) : [];
}

/** The rollup phase's result as the sync reports it: a failure fails the sync's exit code and says so. */
export type RollupOutcome = ({ status: 'ok' } & RollupReport) | { status: 'failed'; phase: 'rollups'; error: string };

export async function rollupPhase(ctx: AppContext, full: boolean, spool?: RollupSpool): Promise<RollupOutcome> {
  try {
    return { status: 'ok', ...(await runRollups(ctx, spool ? { full, spool } : { full })) };
  } catch (err) {
    ctx.log.error({ err }, 'Rollups failed; the next sync or `lora-catalog rollups` catches up');
    return { status: 'failed', phase: 'rollups', error: errorMessage(err) };
  }
}

/** The sync's record in the sync-runs index learns how the rollup phase went (pipeline-health reads it). */
export async function recordRollupPhase(ctx: AppContext, report: SyncReport, rollups: RollupOutcome): Promise<void> {
  const failed = rollups.status === 'failed';
  if (failed) {
    report.status = 'failed';
    report.failed_phase = 'rollups';
  }
  try {
    await ctx.client.update({
      index: ctx.config.indices.sync_runs,
      id: report.sync_id,
      doc: { durations_ms: { rollups: report.durations_ms.rollups }, ...(failed ? { status: 'failed', failed_phase: 'rollups' } : {}) },
      refresh: true,
    });
  } catch (err) {
    ctx.log.warn({ err, syncId: report.sync_id }, 'Could not record the rollup phase in the sync report');
  }
}

export function formatReport(report: SyncReport, rollups: RollupOutcome | null): string {
  const c = report.counts;
  const lines = [
    `${report.dry_run ? 'Dry run (nothing written)' : 'Sync'} ${report.status} in ${(report.duration_ms / 1000).toFixed(1)} s (${report.mode}${report.shard ? `, shard ${report.shard}` : ''})`,
    `  runs found ${c.found}   indexed ${report.dry_run ? `(would) ${c.new + c.changed + c.reappeared}` : c.indexed}   errors ${c.parse_errors + c.failed} (${c.parse_errors} parse errors, ${c.failed} write failures)`,
    `  new ${c.new}   changed ${c.changed}   unchanged ${c.unchanged}   status updated ${c.status_updated}   vanished ${c.vanished}   reappeared ${c.reappeared}   retired (kept out) ${c.retired}`,
  ];
  for (const s of report.sources) {
    lines.push(
      `  source ${s.name} (${s.kind}): ${s.runs} runs, ${s.complete ? 'listed completely' : `listing incomplete: ${s.error ?? `${s.warnings} warnings`}`}`,
    );
  }
  for (const [cls, ids] of Object.entries(report.sample)) {
    if (ids && ids.length > 0 && (report.dry_run || cls === 'vanished')) {
      lines.push(`  ${cls}: ${ids.join(', ')}${ids.length >= 10 ? ', …' : ''}`);
    }
  }
  for (const s of unmarkedRoots(report)) {
    lines.push(
      `  warning: source ${s.name} was not listed completely, so runs missing from it were NOT marked vanished (exit ${EXIT_INCOMPLETE_LISTING}); see the listing warnings in the log`,
    );
  }
  for (const e of report.parse_error_sample ?? []) {
    lines.push(`  parse error ${e.location}: ${e.message.split('\n')[0]}`);
  }
  if (c.parse_errors > (report.parse_error_sample ?? []).length) {
    lines.push(`  … ${c.parse_errors - report.parse_error_sample.length} more parse errors (search: status:parse_error)`);
  }
  for (const e of report.errors.slice(0, 10)) {
    lines.push(`  error ${e.code} ${e.run_id}: ${e.message}`);
  }
  if (report.errors_total > 10) {
    lines.push(`  … ${report.errors_total - 10} more errors (see the lora-sync-runs index, sync_id ${report.sync_id})`);
  }
  if (rollups?.status === 'ok') {
    lines.push(
      `  rollups (${rollups.mode}${rollups.runsFrom === 'sync' ? ', from the runs this sync wrote' : ''}): ${rollups.dirtyRuns} runs since the last rollup, ${rollups.buckets} buckets, ${rollups.curveDocs} loss-curve docs, ${rollups.deleted} removed`,
    );
  } else if (rollups) {
    lines.push(`  FAILED phase rollups: ${rollups.error}`);
  }
  return lines.join('\n');
}

// --- internal ---

/** `source: 41200 runs, 1830 written, 1450 runs/s, ETA 0:48` — the ETA only when the catalogue already knows roughly how many runs there are. */
