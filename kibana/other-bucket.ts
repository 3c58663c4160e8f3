import { ConfigError } from '../src/errors.ts';
import type { BucketLevel, PanelQuery } from './common.ts';

/** The key Kibana gives the merged "Other" bucket (shown as "Other"). */
export const OTHER_KEY = '__other__';

/** Sends one `_search` and returns the parsed response. */
export type SearchFn = (query: PanelQuery) => Promise<unknown>;

type Json = Record<string, unknown>;
type TermsAgg = { buckets: Json[]; sum_other_doc_count?: number };

/**
 * What the panel shows, the way Kibana gets it: the panel request, then for every terms column with
 * `otherBucket` (outermost first) one more request, whose answers are merged into the first response as
 * buckets keyed {@link OTHER_KEY} (Kibana's `buildOtherBucketAgg` / `mergeOtherBucketAggResponse`).
 *
 * The extra request is a `filters` aggregation with one filter per parent bucket whose terms dropped
 * values: the parent's keys, the column's field present, none of the shown keys; below it the column's
 * own sub-aggregations, so every metric of the "Other" bucket (average, min, median…) is exact, not
 * derived from the counts. A parent that is itself "Other" is described by its own must-not filter.
 */
export async function runPanelQuery(query: PanelQuery, search: SearchFn): Promise<Json> {
  const response = (await search(query)) as Json;
  const levels = query.bucketLevels ?? [];
  for (const [depth, level] of levels.entries()) {
    if (!level.other) {
      continue;
    }
    const targets: Array<{ name: string; filter: Json; agg: TermsAgg }> = [];
    collectTargets((response.aggregations ?? {}) as Json, levels, depth, [], targets);
    if (targets.length === 0) {
      continue;
    }
    const filters = Object.fromEntries(targets.map((t) => [t.name, t.filter]));
    const children = childAggs(query.body, levels, depth);
    const body = {
      size: 0,
      ...(query.body.query === undefined ? {} : { query: query.body.query }),
      aggs: { other: { filters: { filters }, ...(children === undefined ? {} : { aggs: children }) } },
    };
    const answer = (await search({ panelId: query.panelId, index: query.index, body })) as Json;
    const buckets = ((answer.aggregations as Json | undefined)?.other as { buckets?: Record<string, Json> } | undefined)?.buckets ?? {};
    for (const target of targets) {
      const bucket = buckets[target.name];
      if (bucket !== undefined && Number(bucket.doc_count) > 0) {
        target.agg.buckets.push({ ...bucket, key: OTHER_KEY });
      }
    }
  }
  return response;
}

// --- internal ---

/** Walks the response down to `depth`, remembering how to filter each parent bucket. */
function collectTargets(container: Json, levels: BucketLevel[], depth: number, path: Json[], out: Array<{ name: string; filter: Json; agg: TermsAgg }>): void {
  const level = levels[path.length] as BucketLevel;
  const agg = container[level.id] as TermsAgg | undefined;
  if (agg === undefined || !Array.isArray(agg.buckets)) {
    return;
  }
  if (path.length === depth) {
    if ((agg.sum_other_doc_count ?? 0) > 0) {
      out.push({ name: `other-${out.length}`, filter: { bool: { filter: [...path, otherClause(level, agg)] } }, agg });
    }
    return;
  }
  if (level.op !== 'terms') {
    // Our charts put terms outside date histograms; a range filter per date bucket is not needed yet.
    throw new ConfigError('config-invalid', `an "Other" bucket below the date histogram ${level.id} is not supported`);
  }
  for (const bucket of agg.buckets) {
    const filter = bucket.key === OTHER_KEY ? otherClause(level, agg) : { term: { [level.field]: bucket.key } };
    collectTargets(bucket, levels, depth, [...path, filter], out);
  }
}

/** Documents of the "Other" bucket: the field is present and its value is none of the shown keys. */
function otherClause(level: BucketLevel, agg: TermsAgg): Json {
  const keys = agg.buckets.map((b) => b.key).filter((k) => k !== OTHER_KEY);
  return { bool: { filter: [{ exists: { field: level.field } }], must_not: [{ terms: { [level.field]: keys } }] } };
}

/** The sub-aggregations of the column at `depth` in the panel request. */
function childAggs(body: Json, levels: BucketLevel[], depth: number): Json | undefined {
  let aggs = body.aggs as Json | undefined;
  for (const level of levels.slice(0, depth + 1)) {
    aggs = (aggs?.[level.id] as Json | undefined)?.aggs as Json | undefined;
  }
  return aggs;
}
