import { shardBucket } from '../formats/discover.ts';
import type { RunRecord } from '../record/schema.ts';
import { runSortKey } from '../sources/order.ts';
import { bucketKeys, writeStamp } from '../rollups/keys.ts';

/** The indexed document: the record plus reconcile keys, search helpers and sync state. */
export interface RunDoc extends RunRecord {
  sort_key: string;
  shard_bucket: number;
  tag_text: string;
  dataset_text: string;
  state: 'active' | 'vanished';
  vanished_at: string | null;
  vanish_reason: string | null;
  missing_since: string | null;
  copy_of: string | null;
  rollup_keys: string[];
  first_seen_at: string;
  indexed_at: string;
  /** Write stamp (ms) that rollups use to find the runs written since they last completed. */
  rollup_stamp: number;
}

/** Fields that change on every write; equality checks between two syncs leave them out. */
export const VOLATILE_FIELDS = ['indexed_at', 'first_seen_at', 'rollup_stamp'] as const;

export function toRunDoc(record: RunRecord, opts: { now: Date; firstSeenAt: string | null; copyOf?: string | null }): RunDoc {
  return {
    ...record,
    sort_key: runSortKey(record.source.path),
    shard_bucket: shardBucket(record.source.path),
    tag_text: [...record.tags, ...record.tag_summary.map((t) => t.tag)].join(', '),
    dataset_text: [record.data_dir ?? '', ...record.dataset_dirs.map((d) => d.path)].filter(Boolean).join(', '),
    state: 'active',
    vanished_at: null,
    vanish_reason: null,
    missing_since: null,
    copy_of: opts.copyOf ?? null,
    rollup_keys: bucketKeys(record),
    first_seen_at: opts.firstSeenAt ?? opts.now.toISOString(),
    indexed_at: opts.now.toISOString(),
    rollup_stamp: writeStamp(),
  };
}
