import type { SourceConfig } from '../../config/schema.ts';
import { discoverRuns, type DiscoveredRun } from '../discover.ts';
import { adapters } from '../../formats/index.ts';
import { createDriver } from '../../sources/index.ts';
import { createParsePool, type ParsedRun, type ParsePool } from '../parse-pool.ts';

export interface ReadRun {
  run: DiscoveredRun;
  /** The run as a sync would write it (its document as JSON, `first_seen_at` of a first sighting). */
  parsed: ParsedRun;
}

/** Share of the time left that the first, complete read of the run may take; the rest is for a reduced read and Elasticsearch. */
const FULL_READ_SHARE = 0.5;

/** In a reduced read, files above this size (logs, event files) are left out: their loss is skipped with a warning. */
export const REDUCED_READ_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Lists and parses the run at `prefix` of `source`. A run with files over REDUCED_READ_MAX_BYTES is
 * parsed on a worker thread, so a slow parse cannot hold the event loop (and the deadline) hostage;
 * a read that does not finish within its share of the time is stopped (the worker terminated) and
 * redone without the large files, so a run with a 200 MB log still yields a record in time; the next
 * sync reads it completely (its listing fingerprint differs).
 */
export async function readReportedRun(source: SourceConfig, prefix: string, now: Date, deadlineAt: number, warnings: string[]): Promise<ReadRun | null> {
  const driver = createDriver(source);
  let run: DiscoveredRun | null;
  try {
    run = await within(findRun(driver, prefix), deadlineAt, 'listing the run');
  } finally {
    await driver.dispose?.();
  }
  if (run === null) {
    return null;
  }
  const large = run.listing.entries.filter((e) => e.size > REDUCED_READ_MAX_BYTES);
  if (large.length === 0) {
    // Small files only: read right here (a worker's start-up would cost more than the parse).
    return { run, parsed: await within(parseInProcess(source, run, now), deadlineAt, 'reading the run') };
  }
  const fullBy = Date.now() + Math.max(1, (deadlineAt - Date.now()) * FULL_READ_SHARE);
  const full = await parseOnWorker(source, run, now, fullBy);
  if (full !== null) {
    return { run, parsed: full };
  }
  // `names` are `entries` relative to the run dir, in the same order: drop both together.
  const kept = run.listing.entries.map((e) => e.size <= REDUCED_READ_MAX_BYTES);
  const reduced: DiscoveredRun = {
    ...run,
    listing: { ...run.listing, entries: run.listing.entries.filter((_, i) => kept[i]), names: run.listing.names.filter((_, i) => kept[i]) },
  };
  warnings.push(
    `reading the run took longer than its share of the deadline; read again without ${large.map((e) => `${e.key} (${Math.round(e.size / 1048576)} MB)`).join(', ')}: their loss is missing until the next sync reads the run completely`,
  );
  return { run: reduced, parsed: await within(parseInProcess(source, reduced, now), deadlineAt, 'reading the run') };
}

// --- internal ---

async function findRun(driver: ReturnType<typeof createDriver>, prefix: string): Promise<DiscoveredRun | null> {
  let best: DiscoveredRun | null = null;
  for await (const item of discoverRuns(driver, prefix, adapters)) {
    if (item.kind !== 'run') {
      continue;
    }
    // Nested runs close first; the run dir itself, if it is a run, is the one to report.
    if (best === null || item.listing.dir === prefix) {
      best = item;
    }
  }
  return best;
}

async function parseInProcess(source: SourceConfig, run: DiscoveredRun, now: Date): Promise<ParsedRun> {
  const pool = createParsePool({ sources: [source], workers: 0 });
  try {
    return await pool.parse(source, run, { now, firstSeenAt: null });
  } finally {
    await pool.close();
  }
}

/** The record, or null when the parse did not finish by `by` (the worker is terminated then). */
async function parseOnWorker(source: SourceConfig, run: DiscoveredRun, now: Date, by: number): Promise<ParsedRun | null> {
  const pool: ParsePool = createParsePool({ sources: [source], workers: 1 });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), Math.max(1, by - Date.now()));
  });
  try {
    return await Promise.race([pool.parse(source, run, { now, firstSeenAt: null }), late]);
  } finally {
    clearTimeout(timer);
    await pool.close();
  }
}

async function within<T>(work: Promise<T>, deadlineAt: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`deadline reached while ${what}`)), Math.max(1, deadlineAt - Date.now()));
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
