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
  /** Unchanged runs whose time-dependent status was re-derived and written (running → interrupted), without reading them. */
  status_updated: number;
  vanished: number;
  reappeared: number;
  /** Runs retention retired that this sync found (or no longer found) and kept out of the catalogue. */
  retired: number;
  parse_errors: number;
  failed: number;
  written: number;
  /** Run documents Elasticsearch acknowledged (not attempts): the summary's "indexed". */
  indexed: number;
}

export interface SyncError {
  run_id: string;
  code: string;
  message: string;
}

export interface SyncReport {
  sync_id: string;
  mode: 'full' | 'incremental';
  /** `skipped`: another sync held a lease on one of its sources; nothing was crawled (see errors[0]). */
  status: 'ok' | 'failed' | 'aborted' | 'skipped';
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
  /** The first parse errors with the run's location and the file at fault, for the summary. Not indexed (errors are). */
  parse_error_sample: { location: string; file: string; message: string }[];
}

/** Errors kept in the report; the total is always exact. */
export const MAX_REPORT_ERRORS = 100;
/** Ids kept per class in the plan sample. */
export const SAMPLE_SIZE = 10;

export function emptyCounts(): SyncCounts {
  return {
    found: 0,
    new: 0,
    changed: 0,
    unchanged: 0,
    status_updated: 0,
    vanished: 0,
    reappeared: 0,
    retired: 0,
    parse_errors: 0,
    failed: 0,
    written: 0,
    indexed: 0,
  };
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

/** The report of a sync that did not start because `holder` holds a lease on one of its sources. */
export function skippedReport(opts: { syncId: string; mode: SyncReport['mode']; now: Date; shard: string | null; message: string }): SyncReport {
  const at = opts.now.toISOString();
  return {
    sync_id: opts.syncId,
    mode: opts.mode,
    status: 'skipped',
    dry_run: false,
    started_at: at,
    finished_at: at,
    duration_ms: 0,
    sources: [],
    counts: emptyCounts(),
    durations_ms: { list: 0, parse: 0, bulk: 0, vanish: 0, rollups: 0 },
    throughput_runs_per_s: 0,
    errors: [{ run_id: '-', code: 'lease-held', message: opts.message }],
    errors_total: 1,
    shard: opts.shard,
    sample: {},
    parse_error_sample: [],
  };
}

/** The part of the report that goes into the sync-runs index (its mapping is strict). */
export function indexableReport(report: SyncReport): Record<string, unknown> {
  const { sample: _sample, parse_error_sample: _parseErrors, ...rest } = report;
  return rest;
}
