// Folders outside a run that many runs look into (kohya's shared `../logs`, the parent of `output/` runs)
// would be listed once per run: on a team folder with N runs that is N listings of N runs' files, and on
// S3 N times the list requests. One driver instance serves one sync (a parse pool's drivers), so its
// listings of such folders are kept for the runs that follow: a few folders, each capped.
import { isWarning, type SourceDriver, type SourceEntry } from '../../sources/types.ts';

export interface SharedListing {
  /** The folder's entries in listing order, at most SHARED_LISTING_MAX of them. */
  entries: readonly SourceEntry[];
  /** More than SHARED_LISTING_MAX entries exist. */
  truncated: boolean;
  /** Why the listing failed (the entries are the ones listed before it did), else null. */
  error: Error | null;
}

/** Entries a cached listing holds; callers cap below this. */
export const SHARED_LISTING_MAX = 50_000;

/**
 * Kept per driver, least recently used dropped first: enough folders for every place one run looks (a parent and
 * six guessed log folders) and the next run's, and a bound on the entries held (memory: ~100 bytes an entry).
 */
const KEPT_FOLDERS = 16;
const KEPT_ENTRIES = 100_000;

interface Kept {
  listing: Promise<SharedListing>;
  /** Entries held, once listed. */
  entries: number;
}

const byDriver = new WeakMap<SourceDriver, Map<string, Kept>>();
const derivations = new WeakMap<SharedListing, Map<string, unknown>>();

/** The recursive listing of `dir`, listed once per driver while it stays among the folders kept. */
export function sharedListing(driver: SourceDriver, dir: string): Promise<SharedListing> {
  const kept = byDriver.get(driver) ?? new Map<string, Kept>();
  byDriver.set(driver, kept);
  const found = kept.get(dir);
  if (found) {
    // Map order is insertion order: re-inserting marks it most recently used.
    kept.delete(dir);
    kept.set(dir, found);
    return found.listing;
  }
  const entry: Kept = { listing: listAll(driver, dir), entries: 0 };
  kept.set(dir, entry);
  void entry.listing.then((listing) => {
    entry.entries = listing.entries.length;
    evict(kept);
  });
  evict(kept);
  return entry.listing;
}

/**
 * What `build` makes of `listing`, built once per listing: an index the runs look up, so that N runs sharing
 * a folder do not each scan its N entries. `name` tells apart the derivations of one listing.
 */
export function derived<T>(listing: SharedListing, name: string, build: (listing: SharedListing) => T): T {
  let values = derivations.get(listing);
  if (!values) {
    values = new Map();
    derivations.set(listing, values);
  }
  if (!values.has(name)) {
    values.set(name, build(listing));
  }
  return values.get(name) as T;
}

// --- internal ---

/** Drops the least recently used folders (never the newest) while over either bound. */
function evict(kept: Map<string, Kept>): void {
  let entries = 0;
  for (const k of kept.values()) {
    entries += k.entries;
  }
  for (const [dir, k] of kept) {
    if (kept.size <= 1 || (kept.size <= KEPT_FOLDERS && entries <= KEPT_ENTRIES)) {
      return;
    }
    kept.delete(dir);
    entries -= k.entries;
  }
}

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
