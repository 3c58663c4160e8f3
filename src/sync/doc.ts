import { shardBucket } from './discover.ts';
import { emptyFields } from '../record/build.ts';
import type { RunRecord } from '../record/schema.ts';
import { runSortKey } from '../sources/order.ts';
import { bucketKeys, writeStamp } from '../rollups/keys.ts';
import { canonicalOptimizer } from '../search/aliases.ts';
import { boundRecord } from './doc-bounds.ts';

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
  /** The exact number of epochs when `loss_per_epoch` was downsampled to fit the index (absent otherwise: the array's length is exact). */
  loss_per_epoch_count?: number;
  /** Write stamp (ms) that rollups use to find the runs written since they last completed. */
  rollup_stamp: number;
}

/** Fields that change on every write; equality checks between two syncs leave them out. */
export const VOLATILE_FIELDS = ['indexed_at', 'first_seen_at', 'rollup_stamp'] as const;

/** The indexed document of a record, cut to what the engine accepts (see doc-bounds.ts). */
export function toRunDoc(full: RunRecord, opts: { now: Date; firstSeenAt: string | null; copyOf?: string | null }): RunDoc {
  const { record, epochCount } = boundRecord(full);
  return {
    ...record,
    ...(epochCount === null ? {} : { loss_per_epoch_count: epochCount }),
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
    rollup_stamp: writeStamp(),
  };
}

/**
 * What to write instead when the engine still refuses a run's document (a 400 mapping or parsing
 * error): the run with its identity, location and listing fingerprint, status parse_error and the
 * engine's reason. The fingerprint is the run's own, so the next sync sees it unchanged instead of
 * failing on it forever. Built up front from a few fields, so the pending bulk keeps no large document.
 */
export function rejectedDocFactory(doc: RunDoc): (reason: string) => RunDoc {
  const keep = {
    run_id: doc.run_id,
    run_id_basis: doc.run_id_basis,
    source: doc.source,
    format: doc.format,
    fingerprint: doc.fingerprint,
    parser_version: doc.parser_version,
    created_at: doc.created_at,
  };
  const { first_seen_at: firstSeenAt, indexed_at: indexedAt, copy_of: copyOf } = doc;
  return (reason) => {
    const record: RunRecord = {
      ...emptyFields(),
      ...keep,
      status: 'parse_error',
      status_evidence: 'document rejected by Elasticsearch',
      parse_error: { file: keep.source.path || '.', message: `rejected by Elasticsearch: ${reason}`.slice(0, 2000) },
    };
    return { ...toRunDoc(record, { now: new Date(indexedAt), firstSeenAt, copyOf }), indexed_at: indexedAt };
  };
}
