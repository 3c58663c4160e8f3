/** One object in a source listing. `key` is relative to the root, `/`-separated, no leading slash. */
export interface SourceEntry {
  key: string;
  /** Bytes. */
  size: number;
  /** Last modification, epoch milliseconds. */
  mtime: number;
  /** Content tag when the store has one (S3 ETag without quotes). */
  etag?: string;
}

/** A non-fatal problem met while listing (permission denied, vanished while crawling, symlink loop…). */
export interface SourceWarning {
  kind: 'warning';
  key: string;
  code: 'permission-denied' | 'vanished' | 'symlink-loop' | 'not-a-directory' | 'other';
  message: string;
}

export interface ByteRange {
  /** Inclusive start offset. */
  start: number;
  /** Exclusive end offset. */
  end: number;
}

export interface DriverFlags {
  /** Entries carry a content ETag. */
  etag: boolean;
  /** `read` with a range costs one small request (no full download). */
  rangedRead: boolean;
}

/**
 * The contract every storage driver implements. Listing order is part of the contract:
 * entries come in ascending byte order of their UTF-8 key (S3's native order; the fs driver
 * sorts each directory so that its depth-first walk yields the same order). Sync relies on it
 * to merge the crawl against the index without holding either in memory.
 */
export interface SourceDriver {
  readonly name: string;
  readonly flags: DriverFlags;
  /** Every object under `prefix` (`''` = the whole root), recursively, in byte order of key. Throws if the listing cannot be completed. */
  list(prefix: string): AsyncIterable<SourceEntry | SourceWarning>;
  /** The object's bytes (or the given range of them); `null` when it does not exist. */
  read(key: string, range?: ByteRange): Promise<Uint8Array | null>;
  /** Stream the object's bytes in chunks (bounded memory for huge logs); `null` when it does not exist. */
  stream(key: string): Promise<AsyncIterable<Uint8Array> | null>;
  /** Listing metadata for one object; `null` when it does not exist. */
  stat(key: string): Promise<SourceEntry | null>;
  dispose?(): Promise<void>;
}

export function isWarning(item: SourceEntry | SourceWarning): item is SourceWarning {
  return 'kind' in item && item.kind === 'warning';
}

/**
 * A candidate run directory as the crawler saw it: its own files plus the files of sub-folders
 * that were not runs themselves (checkpoint-N/, logs/, samples…). Keys are relative to the source root.
 */
export interface DirListing {
  /** Directory key relative to the root (`''` = root), no trailing slash. */
  dir: string;
  /** Every entry under `dir` that belongs to it, in byte order of key. */
  entries: SourceEntry[];
  /** `entries` keys relative to `dir` (same order), e.g. `checkpoint-100/trainer_state.json`. */
  names: string[];
}

/** What a parser knows about the root it reads from. */
export interface RootInfo {
  name: string;
  kind: 'fs' | 's3';
  /** Absolute path or `s3://bucket/prefix` of the root, no trailing slash. */
  uri: string;
}

/** The listing of a directory from its entries (keys relative to the root). */
export function toListing(dir: string, entries: SourceEntry[]): DirListing {
  const cut = dir === '' ? 0 : dir.length + 1;
  return { dir, entries, names: entries.map((entry) => entry.key.slice(cut)) };
}
