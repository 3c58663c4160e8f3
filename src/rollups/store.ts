import type { Client, estypes } from '@elastic/elasticsearch';
import { scanPages } from '../es/pit.ts';
import { ROLLUP_RUN_FIELDS, WATERMARK_ID, type RollupRun } from './compute.ts';

/** A run as the rollups read it: the fields they aggregate, its bucket keys and whether it counts. */
export type ScannedRun = RollupRun & { rollup_keys: string[]; state: string; run_kind?: string; rollup_stamp?: number };

/** What the rollup index last counted of a run: the buckets, and the write (its stamp) it counted. */
export interface Membership {
  keys: string[];
  /** The run's `rollup_stamp` when it was counted; null for memberships written before stamps were kept. */
  stamp: number | null;
}

/**
 * Runs that are not training runs do not enter the rollups. Filter hook for `run_kind` (added to run
 * documents by another change): a term on a field the index does not map matches nothing, so until
 * then this excludes nothing.
 */
export const EXCLUDED_RUN_KINDS: estypes.QueryDslQueryContainer = { terms: { run_kind: ['evaluation'] } };

/** The runs rollups count: active, and not excluded by kind. */
export const COUNTED_RUNS: estypes.QueryDslQueryContainer = { bool: { filter: [{ term: { state: 'active' } }], must_not: [EXCLUDED_RUN_KINDS] } };

/** Same test as COUNTED_RUNS, on a scanned document. */
export function isCounted(run: ScannedRun): boolean {
  return run.state === 'active' && run.run_kind !== 'evaluation';
}

/** What deciding whether a run is counted, and in which buckets, reads of it (no aggregated values). */
export const MEMBERSHIP_FIELDS = ['run_id', 'rollup_keys', 'state', 'run_kind', 'rollup_stamp'];

/** Page size of the run scans; memory is one page plus the accumulators. */
export const PAGE = 2000;

/**
 * Pages of runs matching a query, from a point-in-time snapshot (refreshed first, so acknowledged writes are in).
 * With `slices` > 1 the engine reads that many slices side by side and pages come in no particular order.
 */
export async function* scanRunPages(
  client: Client,
  index: string,
  query: estypes.QueryDslQueryContainer,
  fields: readonly string[] = [...ROLLUP_RUN_FIELDS, ...MEMBERSHIP_FIELDS],
  slices = 1,
): AsyncGenerator<ScannedRun[]> {
  await client.indices.refresh({ index });
  for await (const hits of scanPages<ScannedRun>(client, { index, query, _source: [...fields], pageSize: PAGE, keepAlive: '5m', slices })) {
    yield hits.map((hit) => asScannedRun(hit._source as ScannedRun));
  }
}

/** A run as read (from the index or the sync's spool): a field it lacks (`_source` filtering drops empty lists) as empty. */
export function asScannedRun(src: ScannedRun): ScannedRun {
  return { ...src, loss_per_epoch: src.loss_per_epoch ?? [], rollup_keys: src.rollup_keys ?? [] };
}

/** The stamp up to which rollups are complete, or null when they never completed (or a full recomputation was cut short). */
export async function readWatermark(client: Client, index: string): Promise<number | null> {
  // https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-get
  const res = await client.get<{ rollup_stamp?: number }>({ index, id: WATERMARK_ID }, { ignore: [404] });
  const stamp = res.found ? res._source?.rollup_stamp : undefined;
  return typeof stamp === 'number' && Number.isFinite(stamp) ? stamp : null;
}

/** The bucket keys each run was last counted in (its `run_member` doc) and the write counted; runs never counted are absent. */
export async function readMembers(client: Client, index: string, runIds: string[]): Promise<Map<string, Membership>> {
  const out = new Map<string, Membership>();
  if (runIds.length === 0) {
    return out;
  }
  // https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-mget
  const res = await client.mget<{ rollup_keys?: string[]; rollup_stamp?: number }>({
    index,
    ids: runIds.map((id) => `run:${id}`),
    _source: ['rollup_keys', 'rollup_stamp'],
  });
  for (const doc of res.docs) {
    if ('found' in doc && doc.found) {
      const stamp = doc._source?.rollup_stamp;
      out.set(doc._id.slice(4), { keys: doc._source?.rollup_keys ?? [], stamp: typeof stamp === 'number' ? stamp : null });
    }
  }
  return out;
}

/**
 * Kinds earlier builds wrote and this one does not: `run_epoch` (one doc per run and epoch, replaced by
 * the per-bucket `curve` and `curve_rank` docs; the run's own curve is in its `loss_per_epoch`).
 */
export const RETIRED_KINDS = ['run_epoch'];

/** Whether the rollup index still holds documents of a retired kind (then only a full recomputation clears them). */
export async function hasRetiredDocs(client: Client, index: string): Promise<boolean> {
  // https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-count
  const res = await client.count({ index, query: { terms: { kind: RETIRED_KINDS } } });
  return res.count > 0;
}

/** Ids of existing rollup docs matching a query (to delete the ones a recomputation no longer produces). */
export async function collectIds(client: Client, index: string, query: estypes.QueryDslQueryContainer): Promise<Set<string>> {
  const ids = new Set<string>();
  await client.indices.refresh({ index });
  for await (const hits of scanPages(client, { index, query, _source: false, pageSize: PAGE, keepAlive: '5m' })) {
    for (const hit of hits) {
      ids.add(hit._id as string);
    }
  }
  return ids;
}
