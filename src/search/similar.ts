import type { Client, estypes } from '@elastic/elasticsearch';
import { canonicalOptimizer } from './aliases.ts';
import { HIT_SOURCE_FIELDS, request, showRun, toHit, type RunHit, type StoredRun } from './run.ts';

/** A similar run with the reasons it is similar, in the order they weigh. */
export interface SimilarHit extends RunHit {
  reasons: string[];
}

/** Text fields `similarRuns` compares with more_like_this. */
export const SIMILAR_TEXT_FIELDS = ['prompt_example', 'prompts', 'tag_text', 'notes', 'dataset_text'];

/** Learning rates within this factor of the run's count as close (the `should` boost uses the same band). */
const LR_BAND = 0.5;

/** At most this many shared prompt terms are named in a reason. */
const MAX_SHARED_TERMS = 5;

/** Retention's tombstones are out of the catalogue's answers. */
const RETIRED: estypes.QueryDslQueryContainer = { term: { state: 'retired' } };

/** Fields the reasons compare, beyond what a hit row shows. */
const REASON_FIELDS = ['optimizer', 'prompt_example', 'tags', 'tag_summary', 'data_dir', 'config_hash'];

/**
 * Runs like `runId`: more_like_this over its prompt/tag/note text (the stored document is the `like`), boosted by
 * the same rank, the same base family and a learning rate within ±50 %. Each hit says why, from comparing its
 * fields with the run's. Null when the run does not exist.
 */
export async function similarRuns(client: Client, index: string, runId: string, size = 10): Promise<SimilarHit[] | null> {
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
    should.push({ range: { learning_rate: { gte: run.learning_rate * (1 - LR_BAND), lte: run.learning_rate * (1 + LR_BAND) } } });
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
      ? { must: [mlt], should, must_not: [{ ids: { values: [runId] } }, RETIRED] }
      : { should, minimum_should_match: 1, must_not: [{ ids: { values: [runId] } }, RETIRED] },
  };
  // https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-search
  const res = await request('search', () =>
    client.search<Partial<StoredRun>>({ index, query, size, _source: [...HIT_SOURCE_FIELDS, ...REASON_FIELDS], sort: ['_score', { run_id: 'asc' }] }),
  );
  return res.hits.hits.map((hit) => ({ ...toHit(hit), reasons: similarityReasons(run, hit._source ?? {}) }));
}

/** Why `other` resembles `run`, in words: shared config, rank, family, learning rate, optimizer, data and prompt terms. */
export function similarityReasons(run: Partial<StoredRun>, other: Partial<StoredRun>): string[] {
  const reasons: string[] = [];
  if (run.config_hash && run.config_hash === other.config_hash) {
    reasons.push('same config');
  }
  if (typeof run.lora_rank === 'number' && run.lora_rank === other.lora_rank) {
    reasons.push(`same rank ${run.lora_rank}`);
  }
  if (run.base_model_family && run.base_model_family === other.base_model_family) {
    reasons.push(`same family ${run.base_model_family}`);
  }
  const lrReason = learningRateReason(run.learning_rate, other.learning_rate);
  if (lrReason) {
    reasons.push(lrReason);
  }
  const optimizer = canonicalOptimizer(run.optimizer);
  if (optimizer && optimizer === canonicalOptimizer(other.optimizer)) {
    reasons.push(`same optimizer ${optimizer}`);
  }
  if (run.data_dir && run.data_dir === other.data_dir) {
    reasons.push('same data dir');
  }
  const otherTerms = new Set(promptTerms(other));
  const shared = promptTerms(run).filter((t) => otherTerms.has(t));
  if (shared.length > 0) {
    reasons.push(`shared prompt terms: ${shared.slice(0, MAX_SHARED_TERMS).join(', ')}${shared.length > MAX_SHARED_TERMS ? ', …' : ''}`);
  }
  return reasons;
}

// --- internal ---

/** Words that say nothing about what a run draws or answers. */
const STOP_WORDS = new Set(['a', 'an', 'and', 'the', 'of', 'in', 'on', 'with', 'to', 'for', 'at', 'by', 'is', 'best', 'quality', 'masterpiece']);

function learningRateReason(a: number | null | undefined, b: number | null | undefined): string | null {
  if (typeof a !== 'number' || typeof b !== 'number' || a <= 0) {
    return null;
  }
  if (a === b) {
    return `same lr ${a}`;
  }
  const off = Math.abs(b - a) / a;
  return off <= LR_BAND ? `lr within ${Math.max(1, Math.ceil(off * 100))}%` : null;
}

/** Distinct lower-case terms of the prompt and tags, in order; CJK runs stay whole (one term per phrase). */
function promptTerms(r: Partial<StoredRun>): string[] {
  const text = [r.prompt_example ?? '', ...(r.tags ?? []), ...(r.tag_summary ?? []).map((t) => t.tag)].join(', ');
  const terms = text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 1 && !STOP_WORDS.has(t));
  return [...new Set(terms)];
}
