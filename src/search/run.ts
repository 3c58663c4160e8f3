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
}

const NOT_VANISHED: estypes.QueryDslQueryContainer = { term: { state: 'vanished' } };

export interface RunHit {
  run_id: string;
  /** Relevance; `null` when the query had no free text and hits are sorted by date or loss. */
  score: number | null;
  format: string;
  status: string;
  base_model: string | null;
  lora_rank: number | null;
  learning_rate: number | null;
  loss_final: number | null;
  created_at: string | null;
  prompt_example: string | null;
  source_uri: string;
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
  'config_hash',
];

/** Text fields `similarRuns` compares with more_like_this. */
export const SIMILAR_TEXT_FIELDS = ['prompt_example', 'prompts', 'tag_text', 'notes', 'dataset_text'];

/** Parses, compiles and runs a query; ties (and filter-only queries) are ordered newest first. Throws QueryError. */
export async function searchRuns(client: Client, index: string, text: string, opts: SearchOptions): Promise<SearchResult> {
  // Runs marked vanished stay in the catalogue (deletes are marks) but are not search results unless asked for.
  const compiled = compileQuery(parseQuery(text), { now: opts.now, cjkFields: opts.cjkFields });
  const query = opts.includeVanished ? compiled : { bool: { must: [compiled], must_not: [NOT_VANISHED] } };
  // https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-search
  const res = await request('search', () =>
    client.search<Partial<RunRecord>>({
      index,
      query,
      size: opts.size ?? 20,
      track_total_hits: true,
      _source: HIT_SOURCE_FIELDS,
      sort: ['_score', { created_at: { order: 'desc', missing: '_last' } }, { run_id: 'asc' }],
    }),
  );
  return { total: totalOf(res.hits.total), hits: res.hits.hits.map(toHit) };
}

/** The stored record of one run, or null when the index has no such run. */
export async function showRun(client: Client, index: string, runId: string): Promise<RunRecord | null> {
  // https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-get
  const res = await request('get', () => client.get<RunRecord>({ index, id: runId }, { ignore: [404] }));
  return res.found && res._source ? res._source : null;
}

/** Completed runs with the lowest final loss, one per config (by config_hash; runs without one stand alone). */
export async function bestRuns(client: Client, index: string, opts: BestOptions): Promise<BestHit[]> {
  const filter: estypes.QueryDslQueryContainer[] = [{ term: { status: 'completed' } }, { exists: { field: 'loss_final' } }, { bool: { must_not: [NOT_VANISHED] } }];
  if (opts.base !== undefined) {
    filter.push(compileQuery({ kind: 'keyword', field: 'base', value: opts.base }, { now: new Date(0) }));
  }
  if (opts.rank !== undefined) {
    filter.push({ term: { lora_rank: opts.rank } });
  }
  if (opts.familyTerm !== undefined) {
    filter.push(opts.familyTerm === null ? { bool: { must_not: [{ exists: { field: 'base_model_family' } }] } } : { term: { base_model_family: opts.familyTerm } });
  }
  const top = opts.top ?? 10;
  const search = (extra: estypes.QueryDslQueryContainer, collapse?: estypes.SearchFieldCollapse) =>
    request('search', () =>
      client.search<Partial<RunRecord>>({
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
  const filter: estypes.QueryDslQueryContainer[] = [{ term: { status: 'completed' } }, { exists: { field: 'loss_final' } }, { bool: { must_not: [NOT_VANISHED] } }];
  if (opts.rank !== undefined) {
    filter.push({ term: { lora_rank: opts.rank } });
  }
  const res = await request('search', () =>
    client.search({ index, size: 0, query: { bool: { filter } }, aggs: { families: { terms: { field: 'base_model_family', size: MAX_FAMILIES, missing: UNKNOWN_FAMILY } } } }),
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

/**
 * Runs like `runId`: more_like_this over its prompt/tag/note text (the stored document is the `like`), boosted by
 * the same rank, the same base family and a learning rate within ±50 %. Null when the run does not exist.
 */
export async function similarRuns(client: Client, index: string, runId: string, size = 10): Promise<RunHit[] | null> {
  const run = await showRun(client, index, runId);
  if (!run) {
    return null;
  }
  const should: estypes.QueryDslQueryContainer[] = [];
  if (run.lora_rank !== null && run.lora_rank !== undefined) {
    should.push({ term: { lora_rank: run.lora_rank } });
  }
  if (run.base_model_family) {
    should.push({ term: { base_model_family: run.base_model_family } });
  }
  if (run.learning_rate !== null && run.learning_rate !== undefined) {
    should.push({ range: { learning_rate: { gte: run.learning_rate * 0.5, lte: run.learning_rate * 1.5 } } });
  }
  const mlt: estypes.QueryDslQueryContainer = {
    more_like_this: {
      fields: SIMILAR_TEXT_FIELDS,
      like: [{ _index: index, _id: runId }],
      // Catalogues are small: the defaults (term in ≥ 5 docs, twice in the run) would drop every term.
      min_term_freq: 1,
      min_doc_freq: 1,
      max_query_terms: 40,
      minimum_should_match: '20%',
    },
  };
  const hasText = Boolean(run.prompt_example || run.prompts?.length || run.notes || run.tag_summary?.length || run.tags?.length);
  const query: estypes.QueryDslQueryContainer = {
    bool: hasText
      ? { must: [mlt], should, must_not: [{ ids: { values: [runId] } }] }
      : { should, minimum_should_match: 1, must_not: [{ ids: { values: [runId] } }] },
  };
  const res = await request('search', () =>
    client.search<Partial<RunRecord>>({ index, query, size, _source: HIT_SOURCE_FIELDS, sort: ['_score', { run_id: 'asc' }] }),
  );
  return res.hits.hits.map(toHit);
}

// --- internal ---

/** Aggregation bucket of runs without a family (not a family name any adapter gives). */
const UNKNOWN_FAMILY = '(unknown)';

const BEST_SORT: estypes.SortCombinations[] = [
  { loss_final: 'asc' },
  { created_at: { order: 'desc', missing: '_last' } },
  { run_id: 'asc' },
];

/** The same order as BEST_SORT, for merging the collapsed and the hash-less lists. */
function byLossThenNewest(a: RunHit, b: RunHit): number {
  return (
    (a.loss_final ?? Infinity) - (b.loss_final ?? Infinity) ||
    (b.created_at ? Date.parse(b.created_at) : -Infinity) - (a.created_at ? Date.parse(a.created_at) : -Infinity) ||
    (a.run_id < b.run_id ? -1 : a.run_id > b.run_id ? 1 : 0)
  );
}

function toHit(hit: estypes.SearchHit<Partial<RunRecord>>): RunHit {
  const s = hit._source ?? {};
  return {
    run_id: s.run_id ?? hit._id ?? '',
    score: hit._score ?? null,
    format: s.format ?? '',
    status: s.status ?? '',
    base_model: s.base_model ?? null,
    lora_rank: s.lora_rank ?? null,
    learning_rate: s.learning_rate ?? null,
    loss_final: s.loss_final ?? null,
    created_at: s.created_at ?? null,
    prompt_example: s.prompt_example ?? null,
    source_uri: s.source?.uri ?? '',
  };
}

function totalOf(total: number | estypes.SearchTotalHits | undefined): number {
  return typeof total === 'number' ? total : (total?.value ?? 0);
}

async function request<T>(what: string, fn: () => Promise<T>): Promise<T> {
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
