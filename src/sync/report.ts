import type { RunClass } from './plan.ts';

export interface SourceReport {
  name: string;
  kind: 'fs' | 's3';
  /** Listed completely without errors or warnings: only then may runs be marked vanished. */
  complete: boolean;
  runs: number;
  warnings: number;
  error: string | null;
}

export interface SyncCounts {
  found: number;
  new: number;
  changed: number;
  unchanged: number;
  vanished: number;
  reappeared: number;
  parse_errors: number;
  failed: number;
  written: number;
}

export interface SyncError {
  run_id: string;
  code: string;
  message: string;
}

export interface SyncReport {
  sync_id: string;
  mode: 'full' | 'incremental';
  status: 'ok' | 'failed' | 'aborted';
  dry_run: boolean;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  sources: SourceReport[];
  counts: SyncCounts;
  durations_ms: { list: number; parse: number; bulk: number; vanish: number; rollups: number };
  throughput_runs_per_s: number;
  errors: SyncError[];
  errors_total: number;
  shard: string | null;
  /** The phase that failed the job when it was not the sync itself (`rollups`). */
  failed_phase?: 'rollups';
  /** A few paths/ids per class, for `--dry-run` and humans. Not indexed. */
  sample: Partial<Record<RunClass, string[]>>;
  /** Rollup buckets the written runs touch (old and new values), for incremental rollups. Not indexed. */
  touched: string[];
}

/** Errors kept in the report; the total is always exact. */
export const MAX_REPORT_ERRORS = 100;
/** Ids kept per class in the plan sample. */
export const SAMPLE_SIZE = 10;

export function emptyCounts(): SyncCounts {
  return { found: 0, new: 0, changed: 0, unchanged: 0, vanished: 0, reappeared: 0, parse_errors: 0, failed: 0, written: 0 };
}

export function addError(report: SyncReport, error: SyncError): void {
  report.errors_total += 1;
  if (report.errors.length < MAX_REPORT_ERRORS) {
    report.errors.push(error);
  }
}

export function addSample(report: SyncReport, cls: RunClass, id: string): void {
  const list = (report.sample[cls] ??= []);
  if (list.length < SAMPLE_SIZE) {
    list.push(id);
  }
}

/** The part of the report that goes into the sync-runs index (its mapping is strict). */
export function indexableReport(report: SyncReport): Record<string, unknown> {
  const { sample: _sample, touched: _touched, ...rest } = report;
  return rest;
}
