import { errors, type Client, type estypes } from '@elastic/elasticsearch';
import { PipelineError } from '../errors.ts';
import type { RunRecord } from '../record/schema.ts';
import { compileQuery } from './compile.ts';
import { parseQuery } from './parse.ts';

export { reproduceRun, type ReproducedConfig } from './reproduce.ts';

export interface SearchOptions {
  /** Clock for `since:`/`before:`. */
  now: Date;
  /** Hits to return; default 20. */
  size?: number;
  /** Also search the `.cjk`/`.ik` multi-fields (when the index has them); default false. */
  cjkFields?: boolean;
  /** Include runs marked vanished (no longer found on storage); default false. */
  includeVanished?: boolean;
  /** Hits to skip (paging); default 0. */
  from?: number;
}

const NOT_VANISHED: estypes.QueryDslQueryContainer = { term: { state: 'vanished' } };
/** Runs retention retired: never results, not even with --include-vanished. */
const RETIRED: estypes.QueryDslQueryContainer = { term: { state: 'retired' } };

export interface RunHit {
  run_id: string;
  /** The run folder's name (last segment of its path; the root's name for a run at the root). */
  name: string;
  /** Relevance; `null` when the query had no free text and hits are sorted by date or loss. */
  score: number | null;
  format: string;
  status: string;
  base_model: string | null;
  base_model_family: string | null;
  lora_rank: number | null;
  learning_rate: number | null;
  loss_final: number | null;
  created_at: string | null;
  prompt_example: string | null;
  /** `eval_metrics.eval_loss`, when the run evaluated. */
  eval_loss: number | null;
  source_uri: string;
  /** `active`, or `vanished` (files gone from storage) with `vanished_at`; `retired_at` when retention retired it. */
  state: string;
  vanished_at: string | null;
  retired_at: string | null;
}

export interface SearchResult {
  total: number;
  hits: RunHit[];
}

export interface BestHit extends RunHit {
  config_hash: string | null;
  /** How many completed runs share this run's config (this one is the lowest-loss of them). */
  same_config_runs: number;
}

export interface BestOptions {
  /** Same meaning as `base:` in a query. */
  base?: string;
  rank?: number;
  /** Number of distinct configs to list; default 10. */
  top?: number;
  /** Only this exact `base_model_family` (null: runs without one). */
  familyTerm?: string | null;
}

/** Fields a hit needs; the full record (config, loss curve) stays on the server. */
export const HIT_SOURCE_FIELDS = [
  'run_id',
  'format',
  'status',
  'base_model',
  'lora_rank',
  'learning_rate',
  'loss_final',
  'created_at',
  'prompt_example',
  'source.uri',
  'source.path',
  'source.root',
  'config_hash',
  'base_model_family',
  'eval_metrics.eval_loss',
  'state',
  'vanished_at',
  'retired_at',
];

/** A stored run document: the record plus the sync state the index adds (absent on documents written before it). */
export type StoredRun = RunRecord & { state?: string; vanished_at?: string | null; retired_at?: string | null };

/** Parses, compiles and runs a query; ties (and filter-only queries) are ordered newest first. Throws QueryError. */
export async function searchRuns(client: Client, index: string, text: string, opts: SearchOptions): Promise<SearchResult> {
  // Runs marked vanished stay in the catalogue (deletes are marks) but are not search results unless asked for.
  const compiled = compileQuery(parseQuery(text), { now: opts.now, cjkFields: opts.cjkFields });
  const query = { bool: { must: [compiled], must_not: opts.includeVanished ? [RETIRED] : [NOT_VANISHED, RETIRED] } };
  // https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-search
  const res = await request('search', () =>
    client.search<Partial<StoredRun>>({
      index,
      query,
      size: opts.size ?? 20,
      from: opts.from ?? 0,
      track_total_hits: true,
      _source: HIT_SOURCE_FIELDS,
      sort: ['_score', { created_at: { order: 'desc', missing: '_last' } }, { run_id: 'asc' }],
    }),
  );
  return { total: totalOf(res.hits.total), hits: res.hits.hits.map(toHit) };
}

/** The stored record of one run, or null when the index has no such run. */
export async function showRun(client: Client, index: string, runId: string): Promise<StoredRun | null> {
  // https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-get
  const res = await request('get', () => client.get<StoredRun>({ index, id: runId }, { ignore: [404] }));
  return res.found && res._source ? res._source : null;
}

/** Completed runs with the lowest final loss, one per config (by config_hash; runs without one stand alone). */
export async function bestRuns(client: Client, index: string, opts: BestOptions): Promise<BestHit[]> {
  // Evaluation-only folders have no training loss to rank; must_not keeps documents indexed before run_kind existed.
  const filter: estypes.QueryDslQueryContainer[] = [
    { term: { status: 'completed' } },
    { exists: { field: 'loss_final' } },
    { bool: { must_not: [NOT_VANISHED, RETIRED, { term: { run_kind: 'evaluation' } }] } },
  ];
  if (opts.base !== undefined) {
    filter.push(compileQuery({ kind: 'keyword', field: 'base', value: opts.base }, { now: new Date(0) }));
  }
  if (opts.rank !== undefined) {
    filter.push({ term: { lora_rank: opts.rank } });
  }
  if (opts.familyTerm !== undefined) {
    filter.push(
      opts.familyTerm === null ? { bool: { must_not: [{ exists: { field: 'base_model_family' } }] } } : { term: { base_model_family: opts.familyTerm } },
    );
  }
  const top = opts.top ?? 10;
  const search = (extra: estypes.QueryDslQueryContainer, collapse?: estypes.SearchFieldCollapse) =>
    request('search', () =>
      client.search<Partial<StoredRun>>({
        index,
        query: { bool: { filter: [...filter, extra] } },
        size: top,
        _source: HIT_SOURCE_FIELDS,
        sort: BEST_SORT,
        ...(collapse ? { collapse } : {}),
      }),
    );
  // Collapse would merge every run without a hash into one null group, so those are fetched uncollapsed. No
  // runtime-field key instead: it needs painless, which minimal clusters (the integ-test build) lack.
  const [hashed, unhashed] = await Promise.all([
    search({ exists: { field: 'config_hash' } }, { field: 'config_hash', inner_hits: { name: 'same_config', size: 0 } }),
    search({ bool: { must_not: [{ exists: { field: 'config_hash' } }] } }),
  ]);
  const hits = [...hashed.hits.hits, ...unhashed.hits.hits].map((hit) => ({
    ...toHit(hit),
    score: null,
    config_hash: hit._source?.config_hash ?? null,
    same_config_runs: hit.inner_hits ? totalOf(hit.inner_hits.same_config?.hits.total) : 1,
  }));
  return hits.sort(byLossThenNewest).slice(0, top);
}

export interface FamilyBest {
  /** Base-model family, or null for runs whose family is unknown (their losses compare with nothing). */
  family: string | null;
  hits: BestHit[];
}

/** Families listed by `bestRunsPerFamily` at most. */
const MAX_FAMILIES = 50;

/**
 * `bestRuns` per base-model family: final losses of Stable Diffusion, Qwen and Whisper runs are on
 * different scales, so one ranking across them would put the smallest scale first, not the best run.
 * Families in the order of their run counts; `top` is per family (default 3).
 */
export async function bestRunsPerFamily(client: Client, index: string, opts: Omit<BestOptions, 'base'>): Promise<FamilyBest[]> {
  const filter: estypes.QueryDslQueryContainer[] = [
    { term: { status: 'completed' } },
    { exists: { field: 'loss_final' } },
    { bool: { must_not: [NOT_VANISHED, RETIRED, { term: { run_kind: 'evaluation' } }] } },
  ];
  if (opts.rank !== undefined) {
    filter.push({ term: { lora_rank: opts.rank } });
  }
  const res = await request('search', () =>
    client.search({
      index,
      size: 0,
      query: { bool: { filter } },
      aggs: { families: { terms: { field: 'base_model_family', size: MAX_FAMILIES, missing: UNKNOWN_FAMILY } } },
    }),
  );
  const buckets = (res.aggregations?.families as estypes.AggregationsStringTermsAggregate | undefined)?.buckets;
  const families = (Array.isArray(buckets) ? buckets : []).map((b) => String(b.key));
  const out: FamilyBest[] = [];
  for (const family of families) {
    const known = family === UNKNOWN_FAMILY ? null : family;
    out.push({ family: known, hits: await bestRuns(client, index, { ...opts, top: opts.top ?? 3, familyTerm: known }) });
  }
  return out;
}

// --- internal ---

/** Aggregation bucket of runs without a family (not a family name any adapter gives). */
const UNKNOWN_FAMILY = '(unknown)';

const BEST_SORT: estypes.SortCombinations[] = [{ loss_final: 'asc' }, { created_at: { order: 'desc', missing: '_last' } }, { run_id: 'asc' }];

/** The same order as BEST_SORT, for merging the collapsed and the hash-less lists. */
function byLossThenNewest(a: RunHit, b: RunHit): number {
  return (
    (a.loss_final ?? Infinity) - (b.loss_final ?? Infinity) ||
    (b.created_at ? Date.parse(b.created_at) : -Infinity) - (a.created_at ? Date.parse(a.created_at) : -Infinity) ||
    (a.run_id < b.run_id ? -1 : a.run_id > b.run_id ? 1 : 0)
  );
}

export function toHit(hit: estypes.SearchHit<Partial<StoredRun>>): RunHit {
  const s = hit._source ?? {};
  return {
    run_id: s.run_id ?? hit._id ?? '',
    name: s.source ? runName(s.source) : '',
    score: hit._score ?? null,
    format: s.format ?? '',
    status: s.status ?? '',
    base_model: s.base_model ?? null,
    base_model_family: s.base_model_family ?? null,
    lora_rank: s.lora_rank ?? null,
    learning_rate: s.learning_rate ?? null,
    loss_final: s.loss_final ?? null,
    created_at: s.created_at ?? null,
    prompt_example: s.prompt_example ?? null,
    eval_loss: s.eval_metrics?.eval_loss ?? null,
    source_uri: s.source?.uri ?? '',
    state: s.state ?? 'active',
    vanished_at: s.vanished_at ?? null,
    retired_at: s.retired_at ?? null,
  };
}

/** The run folder's name: the last path segment, or the root's name for a run at the root. */
export function runName(source: Partial<RunRecord['source']>): string {
  const path = (source.path ?? '').replace(/\/+$/, '');
  return path === '' ? (source.root ?? '') : (path.split('/').pop() as string);
}

export function totalOf(total: number | estypes.SearchTotalHits | undefined): number {
  return typeof total === 'number' ? total : (total?.value ?? 0);
}

export async function request<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError) {
      throw new PipelineError('es-unreachable', `[elasticsearch] ${what}: ${err.message}`, { cause: err });
    }
    const detail = err instanceof errors.ResponseError ? `${err.statusCode ?? ''} ${err.message}` : String(err);
    throw new PipelineError('es-request-failed', `[elasticsearch] ${what}: ${detail}`, { cause: err });
  }
}
