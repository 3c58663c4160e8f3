import { hash } from 'node:crypto';
import { detectAdapters } from '../formats/detect.ts';
import type { DiscoveredRun, FormatAdapter } from '../formats/types.ts';
import { isWarning, toListing, type SourceDriver, type SourceEntry, type SourceWarning } from '../sources/types.ts';

export type { DiscoveredRun } from '../formats/types.ts';

export interface DiscoverOptions {
  /** Only runs whose directory hashes into this shard (`index` of `count`), for sharded backfills. */
  shard?: { index: number; count: number };
}

/**
 * Sub-folders that belong to the run around them and are never runs of their own, even when they
 * look like one (an HF `checkpoint-N/` holds its own trainer_state.json and adapter_config.json).
 */
const RUN_PART_DIR = /^(checkpoint-\d+|tmp-checkpoint-\d+|last-checkpoint|.*-state|runs|logs?|samples?|pissa_\w+|wandb|swanlab|checkpoints?)$/;

/** Cap on the files a directory collects from non-run sub-folders; past it the rest are counted, not kept. */
const MAX_ENTRIES_PER_DIR = 20_000;

/** Shard buckets: a run's bucket is stable; shards partition buckets, so any shard count up to this works. */
export const SHARD_BUCKETS = 1024;

/**
 * Streams the runs under `prefix`, in reconcile order (see `runSortKey`), from a byte-ordered listing.
 * A directory is decided when the listing leaves it: if an adapter detects a run, the run is emitted
 * with all files below it; otherwise its files are handed to the parent, which may be the run they belong to.
 * Memory is bounded by the depth of the tree times the files of one run, not by the number of runs.
 */
export async function* discoverRuns(
  driver: SourceDriver,
  prefix: string,
  adapters: readonly FormatAdapter[],
  opts: DiscoverOptions = {},
): AsyncGenerator<DiscoveredRun | SourceWarning> {
  const base = prefix.replace(/\/+$/, '');
  const stack: Frame[] = [{ dir: base, entries: [], dropped: 0 }];
  for await (const item of driver.list(base)) {
    if (isWarning(item)) {
      yield item;
      continue;
    }
    const dir = parentOf(item.key);
    while (stack.length > 1 && !isWithin(dir, top(stack).dir)) {
      const run = close(stack, adapters, opts);
      if (run) {
        yield run;
      }
    }
    let frame = top(stack);
    while (frame.dir !== dir) {
      const next = childOnPath(frame.dir, dir);
      frame = { dir: next, entries: [], dropped: 0 };
      stack.push(frame);
    }
    if (frame.entries.length < MAX_ENTRIES_PER_DIR) {
      frame.entries.push(item);
    } else {
      frame.dropped += 1;
    }
  }
  while (stack.length > 0) {
    const run = close(stack, adapters, opts);
    if (run) {
      yield run;
    }
  }
}

/** Stable bucket of a run directory in [0, SHARD_BUCKETS). */
export function shardBucket(dir: string): number {
  return hash('sha1', dir, 'buffer').readUInt32BE(0) % SHARD_BUCKETS;
}

export function inShard(dir: string, shard: { index: number; count: number } | undefined): boolean {
  return shard === undefined || shardBucket(dir) % shard.count === shard.index;
}

// --- internal ---

interface Frame {
  dir: string;
  entries: SourceEntry[];
  dropped: number;
}

function close(stack: Frame[], adapters: readonly FormatAdapter[], opts: DiscoverOptions): DiscoveredRun | null {
  const frame = stack.pop() as Frame;
  const parent = stack.at(-1);
  // No sort needed: a child folder is closed (and its files handed up) before the parent's next key arrives, so entries stay in key order.
  const listing = toListing(frame.dir, frame.entries);
  const isPart = parent !== undefined && RUN_PART_DIR.test(lastSegment(frame.dir));
  const matched = isPart || frame.entries.length === 0 ? [] : detectAdapters(listing, adapters);
  if (matched.length > 0) {
    return inShard(frame.dir, opts.shard) ? { kind: 'run', listing, adapters: matched } : null;
  }
  if (parent) {
    const room = MAX_ENTRIES_PER_DIR - parent.entries.length;
    parent.entries.push(...frame.entries.slice(0, Math.max(0, room)));
    parent.dropped += frame.dropped + Math.max(0, frame.entries.length - room);
  }
  return null;
}

function top(stack: Frame[]): Frame {
  return stack[stack.length - 1] as Frame;
}

function parentOf(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash < 0 ? '' : key.slice(0, slash);
}

function isWithin(dir: string, ancestor: string): boolean {
  return ancestor === '' || dir === ancestor || dir.startsWith(`${ancestor}/`);
}

function childOnPath(from: string, to: string): string {
  const rest = from === '' ? to : to.slice(from.length + 1);
  const slash = rest.indexOf('/');
  const segment = slash < 0 ? rest : rest.slice(0, slash);
  return from === '' ? segment : `${from}/${segment}`;
}

function lastSegment(dir: string): string {
  return dir.slice(dir.lastIndexOf('/') + 1);
}
