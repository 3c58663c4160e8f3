import { shardBucket } from '../formats/discover.ts';
import type { RunRecord } from '../record/schema.ts';
import { runSortKey } from '../sources/order.ts';
import { bucketKeys } from '../rollups/keys.ts';
import { canonicalOptimizer } from '../search/aliases.ts';

/** The indexed document: the record plus reconcile keys, search helpers and sync state. */
export interface RunDoc extends RunRecord {
  sort_key: string;
  shard_bucket: number;
  tag_text: string;
  dataset_text: string;
  /** Canonical short optimizer name for `optimizer:` searches (`bitsandbytes.optim.adamw.AdamW8bit` → `adamw8bit`); `optimizer` keeps the raw value. */
  optimizer_name: string | null;
  state: 'active' | 'vanished';
  vanished_at: string | null;
  vanish_reason: string | null;
  missing_since: string | null;
  copy_of: string | null;
  rollup_keys: string[];
  first_seen_at: string;
  indexed_at: string;
}

/** Fields that change on every write; equality checks between two syncs leave them out. */
export const VOLATILE_FIELDS = ['indexed_at', 'first_seen_at'] as const;

export function toRunDoc(record: RunRecord, opts: { now: Date; firstSeenAt: string | null; copyOf?: string | null }): RunDoc {
  return {
    ...record,
    sort_key: runSortKey(record.source.path),
    shard_bucket: shardBucket(record.source.path),
    tag_text: [...record.tags, ...record.tag_summary.map((t) => t.tag)].join(', '),
    dataset_text: [record.data_dir ?? '', ...record.dataset_dirs.map((d) => d.path)].filter(Boolean).join(', '),
    optimizer_name: canonicalOptimizer(record.optimizer),
    state: 'active',
    vanished_at: null,
    vanish_reason: null,
    missing_since: null,
    copy_of: opts.copyOf ?? null,
    // Evaluation-only folders are not training runs: no rollup bucket counts them.
    rollup_keys: record.run_kind === 'evaluation' ? [] : bucketKeys(record),
    first_seen_at: opts.firstSeenAt ?? opts.now.toISOString(),
    indexed_at: opts.now.toISOString(),
  };
}
