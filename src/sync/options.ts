import type { RollupSpool } from '../rollups/spool.ts';
import type { ParsePool } from './parse-pool.ts';
import type { PlannedAction } from './plan.ts';

/** What one sync does: the CLI `sync`, the scheduled jobs and the post-training hook all pass these to `runSync`. */
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
  /**
   * Records the run documents written for the rollups that follow (rollups/spool.ts); armed by the sync only
   * when the runs index held no run, so a first load's rollups need not scan what it just wrote.
   */
  rollupSpool?: RollupSpool;
  /** Called about once a second with progress, for a TTY progress line. */
  /** `expected`: runs the catalogue already holds for the source being crawled (0 on a first load), for an ETA. */
  onProgress?: (p: { source: string; found: number; written: number; expected: number; elapsedMs: number }) => void;
}
