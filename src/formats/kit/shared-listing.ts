// Folders outside a run that many runs look into (kohya's shared `../logs`, the parent of `output/` runs)
// would be listed once per run: on a team folder with N runs that is N listings of N runs' files, and on
// S3 N times the list requests. One driver instance serves one sync (a parse pool's drivers), so its
// listings of such folders are kept for the runs that follow: a few folders, each capped.
import { isWarning, type SourceDriver, type SourceEntry } from '../../sources/types.ts';

export interface SharedListing {
  /** The folder's entries in listing order, at most `max` of them. */
  entries: readonly SourceEntry[];
  /** More than `max` entries exist. */
  truncated: boolean;
  /** Why the listing failed (the entries are the ones listed before it did), else null. */
  error: Error | null;
}

/** Entries a cached listing holds; callers cap below this. */
export const SHARED_LISTING_MAX = 50_000;

/** Folders kept per driver, least recently used dropped first: memory stays a few × SHARED_LISTING_MAX entries. */
const KEPT_FOLDERS = 4;

const byDriver = new WeakMap<SourceDriver, Map<string, Promise<SharedListing>>>();

/** The recursive listing of `dir`, listed once per driver while it stays among the last KEPT_FOLDERS asked for. */
export function sharedListing(driver: SourceDriver, dir: string): Promise<SharedListing> {
  let kept = byDriver.get(driver);
  if (!kept) {
    kept = new Map();
    byDriver.set(driver, kept);
  }
  let listing = kept.get(dir);
  if (listing) {
    // Map order is insertion order: re-inserting marks it most recently used.
    kept.delete(dir);
  } else {
    listing = listAll(driver, dir);
    if (kept.size >= KEPT_FOLDERS) {
      kept.delete(kept.keys().next().value as string);
    }
  }
  kept.set(dir, listing);
  return listing;
}

// --- internal ---

async function listAll(driver: SourceDriver, dir: string): Promise<SharedListing> {
  const entries: SourceEntry[] = [];
  try {
    for await (const item of driver.list(dir)) {
      if (isWarning(item)) {
        continue;
      }
      if (entries.length === SHARED_LISTING_MAX) {
        return { entries, truncated: true, error: null };
      }
      entries.push({ key: item.key, size: item.size, mtime: item.mtime });
    }
    return { entries, truncated: false, error: null };
  } catch (err) {
    return { entries, truncated: false, error: err instanceof Error ? err : new Error(String(err)) };
  }
}
