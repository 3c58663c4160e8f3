import type { estypes } from '@elastic/elasticsearch';
import { canonicalFamily, canonicalOptimizer } from './aliases.ts';
import type { DateNode, KeywordNode, NumericFilterName, QueryNode, RangeNode, RelativeUnit, TextNode } from './ast.ts';

export interface CompileOptions {
  /** The clock for `since:`/`before:` relative dates. */
  now: Date;
  /** Also search the `<field>.cjk` / `<field>.ik` multi-fields (only where the cluster has those analyzers); default false. */
  cjkFields?: boolean;
}

export type SearchFieldType = 'text' | 'keyword' | 'numeric' | 'date';

/**
 * Every index field the search relies on, with the mapping type it needs (see src/es/mappings.ts; a test asserts
 * they match). `tag_text` (the tag_summary tags and tags joined) and `dataset_text` (data_dir and dataset_dirs
 * paths) are derived text fields the indexer must fill: the record schema does not have them.
 */
export const SEARCH_FIELDS = {
  prompt_example: 'text',
  prompts: 'text',
  notes: 'text',
  tag_text: 'text',
  dataset_text: 'text',
  'output_name.text': 'text',
  tags: 'keyword',
  run_id: 'keyword',
  format: 'keyword',
  status: 'keyword',
  base_model: 'keyword',
  'base_model.text': 'text',
  base_model_family: 'keyword',
  optimizer: 'keyword',
  optimizer_name: 'keyword',
  config_hash: 'keyword',
  lora_rank: 'numeric',
  lora_alpha: 'numeric',
  learning_rate: 'numeric',
  loss_final: 'numeric',
  epochs: 'numeric',
  batch_size: 'numeric',
  created_at: 'date',
} as const satisfies Record<string, SearchFieldType>;

/** Free-text fields with boosts: a hit in what the run was trained to draw outranks one in a path or a note. */
export const TEXT_FIELDS = ['prompt_example^3', 'prompts^2', 'tag_text^2', 'tags^2', 'notes', 'dataset_text', 'output_name.text'] as const;

/** Text fields that also get `.cjk` / `.ik` multi-fields when the cluster has those analyzers. */
export const CJK_SUBFIELD_BASES = ['prompt_example', 'prompts', 'tag_text', 'notes'] as const;

/** The index field behind each numeric filter name. */
export const NUMERIC_FIELDS: Record<NumericFilterName, keyof typeof SEARCH_FIELDS> = {
  rank: 'lora_rank',
  alpha: 'lora_alpha',
  loss: 'loss_final',
  lr: 'learning_rate',
  epochs: 'epochs',
  batch: 'batch_size',
};

/** Date filters apply to this field: every record has it when any time evidence exists. */
export const DATE_FIELD = 'created_at';

/**
 * Compiles a parsed query to Elasticsearch query DSL: words and phrases score in `must`, field filters go to the
 * non-scoring `filter`, NOT to `must_not`, OR to `bool.should` with `minimum_should_match: 1`.
 */
export function compileQuery(ast: QueryNode, opts: CompileOptions): estypes.QueryDslQueryContainer {
  if (ast.kind === 'all') {
    return { match_all: {} };
  }
  return { bool: conjunction(ast.kind === 'and' ? ast.children : [ast], opts) };
}

/** True when a word needs phrase matching: the `standard` analyzer cuts CJK text into single characters. */
export function hasCjk(text: string): boolean {
  return CJK.test(text);
}

// --- internal ---

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HOUR_MS = 3_600_000;
const UNIT_MS: Record<RelativeUnit, number> = {
  h: HOUR_MS,
  d: 24 * HOUR_MS,
  w: 7 * 24 * HOUR_MS,
  mo: 30 * 24 * HOUR_MS,
  y: 365 * 24 * HOUR_MS,
};

function conjunction(children: QueryNode[], opts: CompileOptions): estypes.QueryDslBoolQuery {
  const must: estypes.QueryDslQueryContainer[] = [];
  const filter: estypes.QueryDslQueryContainer[] = [];
  const mustNot: estypes.QueryDslQueryContainer[] = [];
  for (const child of children) {
    if (child.kind === 'all') {
      continue;
    }
    if (child.kind === 'not') {
      mustNot.push(compileNode(child.child, opts));
    } else if (scores(child)) {
      must.push(compileNode(child, opts));
    } else {
      filter.push(compileNode(child, opts));
    }
  }
  const bool: estypes.QueryDslBoolQuery = {};
  if (must.length > 0) {
    bool.must = must;
  }
  if (filter.length > 0) {
    bool.filter = filter;
  }
  if (mustNot.length > 0) {
    bool.must_not = mustNot;
  }
  return bool;
}

/** Whether a node contains free text, and so belongs in the scoring `must`. */
function scores(node: QueryNode): boolean {
  switch (node.kind) {
    case 'text':
      return true;
    case 'and':
    case 'or':
      return node.children.some(scores);
    default:
      return false;
  }
}

function compileNode(node: QueryNode, opts: CompileOptions): estypes.QueryDslQueryContainer {
  switch (node.kind) {
    case 'all':
      return { match_all: {} };
    case 'and':
      return { bool: conjunction(node.children, opts) };
    case 'or':
      return { bool: { should: node.children.map((c) => compileNode(c, opts)), minimum_should_match: 1 } };
    case 'not':
      return { bool: { must_not: [compileNode(node.child, opts)] } };
    case 'text':
      return textQuery(node, opts);
    case 'range':
      return rangeQuery(node);
    case 'format':
      return { term: { format: node.value } };
    case 'status':
      return { term: { status: node.value } };
    case 'date':
      return dateQuery(node, opts.now);
    case 'keyword':
      return keywordQuery(node);
  }
}

function textQuery(node: TextNode, opts: CompileOptions): estypes.QueryDslQueryContainer {
  if (!node.phrase && !hasCjk(node.text)) {
    return { multi_match: { query: node.text, fields: [...TEXT_FIELDS], type: 'best_fields', operator: 'and' } };
  }
  const fields: string[] = [...TEXT_FIELDS];
  if (opts.cjkFields) {
    for (const base of CJK_SUBFIELD_BASES) {
      fields.push(`${base}.cjk`, `${base}.ik`);
    }
  }
  return { multi_match: { query: node.text, fields, type: 'phrase' } };
}

function rangeQuery(node: RangeNode): estypes.QueryDslQueryContainer {
  const bounds: estypes.QueryDslNumberRangeQuery = {};
  for (const key of ['gt', 'gte', 'lt', 'lte'] as const) {
    const value = node[key];
    if (value !== undefined) {
      bounds[key] = value;
    }
  }
  return { range: { [NUMERIC_FIELDS[node.field]]: bounds } };
}

function dateQuery(node: DateNode, now: Date): estypes.QueryDslQueryContainer {
  const at = node.value.kind === 'at' ? node.value.iso : new Date(now.getTime() - node.value.amount * UNIT_MS[node.value.unit]).toISOString();
  return { range: { [DATE_FIELD]: node.field === 'since' ? { gte: at } : { lt: at } } };
}

function keywordQuery(node: KeywordNode): estypes.QueryDslQueryContainer {
  const value = node.value;
  switch (node.field) {
    case 'base':
      return anyOf([
        { term: { base_model_family: { value: canonicalFamily(value), case_insensitive: true } } },
        { match_phrase: { 'base_model.text': value } },
      ]);
    case 'model':
      return anyOf([{ term: { base_model: { value, case_insensitive: true } } }, { match_phrase: { 'base_model.text': value } }]);
    case 'tag':
      return anyOf([{ term: { tags: { value, case_insensitive: true } } }, { match_phrase: { tag_text: value } }]);
    case 'optimizer':
      // The canonical short name (indexed as optimizer_name) or the stored value itself.
      return anyOf([
        { term: { optimizer_name: canonicalOptimizer(value) ?? value.toLowerCase() } },
        { term: { optimizer: { value: value.toLowerCase(), case_insensitive: true } } },
      ]);
    case 'id':
      return UUID.test(value) ? { ids: { values: [value.toLowerCase()] } } : { prefix: { run_id: value.toLowerCase() } };
  }
}

function anyOf(queries: estypes.QueryDslQueryContainer[]): estypes.QueryDslQueryContainer {
  return { bool: { should: queries, minimum_should_match: 1 } };
}
