import { QueryError } from '../errors.ts';
import { FIELD_ALIASES } from './aliases.ts';
import { adapters } from '../formats/index.ts';
import { RunStatus, type FormatId } from '../record/schema.ts';
import type { DateNode, KeywordFilterName, NumericFilterName, QueryNode, RangeNode, RelativeUnit } from './ast.ts';
import type { FilterOp, Token } from './tokenize.ts';

export interface FilterFieldSpec {
  kind: 'number' | 'keyword' | 'format' | 'status' | 'date';
  /** Examples and meaning, for `describeSyntax()`. */
  example: string;
  meaning: string;
}

/** Every filter a query may use, in help order; the order is also that of the "unknown field" message. */
export const FILTER_FIELDS = {
  rank: { kind: 'number', example: 'rank:8, rank:4..16, rank>=32', meaning: 'LoRA rank (also lora_rank:, network_dim:)' },
  alpha: { kind: 'number', example: 'alpha:16, alpha<8', meaning: 'LoRA alpha' },
  loss: { kind: 'number', example: 'loss<0.05, loss:0.01..0.05', meaning: 'final training loss' },
  lr: { kind: 'number', example: 'lr:1e-4, lr:1e-4..3e-4, lr<5e-4', meaning: 'learning rate' },
  epochs: { kind: 'number', example: 'epochs:10, epochs>=20', meaning: 'epochs' },
  batch: { kind: 'number', example: 'batch:4, batch:2..8', meaning: 'batch size' },
  base: { kind: 'keyword', example: 'base:sd15, base:sdxl, base:flux', meaning: 'base model family (sd1.5, sd-xl… accepted), or words of the base model' },
  model: { kind: 'keyword', example: 'model:"stable-diffusion-v1-5"', meaning: 'base model name or path (exact, or its words)' },
  format: {
    kind: 'format',
    example: 'format:kohya',
    meaning: adapters.map((a) => (a.aliases?.length ? `${a.id} (${a.aliases.join(', ')})` : a.id)).join(' | '),
  },
  status: { kind: 'status', example: 'status:completed', meaning: RunStatus.options.join(' | ') },
  tag: { kind: 'keyword', example: 'tag:1girl, tag:"blue hair"', meaning: 'a run tag or a dataset caption tag' },
  optimizer: { kind: 'keyword', example: 'optimizer:adamw8bit', meaning: 'optimizer: short name (adamw8bit, adamw, prodigy…) or the stored value' },
  since: { kind: 'date', example: 'since:30d, since:2025-01-01', meaning: 'created at or after (units h d w mo y)' },
  before: { kind: 'date', example: 'before:2w, before:2025-06-30T12:00Z', meaning: 'created before' },
  id: { kind: 'keyword', example: 'id:3f2a9c1e-…, id:3f2a', meaning: 'run id, or its first characters' },
} as const satisfies Record<string, FilterFieldSpec>;

export type FilterFieldName = keyof typeof FILTER_FIELDS;

/** Accepted spellings of each registered format (lower-cased before lookup): its id and the aliases its adapter declares. */
export const FORMAT_ALIASES: ReadonlyMap<string, FormatId> = new Map(adapters.flatMap((a) => [a.id, ...(a.aliases ?? [])].map((name) => [name, a.id])));

/** Turns one `field<op>value` token into its AST node, validating the field, operator and value. */
export function parseFilter(token: Extract<Token, { type: 'filter' }>): QueryNode {
  const name = resolveFieldName(token.field);
  if (name === null) {
    const guess = closestField(token.field.toLowerCase());
    throw new QueryError(
      `unknown field '${token.field}'${guess ? ` (did you mean ${guess}:?)` : ''}: expected one of ${Object.keys(FILTER_FIELDS).join(', ')} (quote the text to search it literally)`,
      token.pos,
    );
  }
  const field = name as FilterFieldName;
  const spec: FilterFieldSpec = FILTER_FIELDS[field];
  if (spec.kind !== 'number' && token.op !== ':') {
    throw new QueryError(`'${field}' takes ':' only, not '${token.op}'`, token.opPos);
  }
  if (token.value === '') {
    throw new QueryError(`expected a value after '${field}${token.op}'`, token.valuePos);
  }
  switch (spec.kind) {
    case 'number':
      return numericFilter(field as NumericFilterName, token.op, token.value, token.valuePos);
    case 'format':
      return { kind: 'format', value: formatValue(token.value, token.valuePos) };
    case 'status':
      return { kind: 'status', value: statusValue(token.value, token.valuePos) };
    case 'date':
      return { kind: 'date', field: field as DateNode['field'], value: dateValue(token.value, token.valuePos) };
    default:
      return { kind: 'keyword', field: field as KeywordFilterName, value: token.value };
  }
}

/** The query field a typed name means (`lora_rank` → `rank`), or null when it names none. */
export function resolveFieldName(typed: string): FilterFieldName | null {
  const lower = typed.toLowerCase();
  if (Object.hasOwn(FILTER_FIELDS, lower)) {
    return lower as FilterFieldName;
  }
  return Object.hasOwn(FIELD_ALIASES, lower) ? (FIELD_ALIASES[lower] as FilterFieldName) : null;
}

// --- internal ---

/** The field within two edits of a misspelt name (`optimiser`, `rnak`), if exactly one is that close. */
function closestField(typed: string): string | null {
  const near = Object.keys(FILTER_FIELDS).filter((f) => editDistance(typed, f) <= Math.min(2, f.length - 1));
  return near.length === 1 ? (near[0] as string) : null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length] as number;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;
const RELATIVE = /^(\d{1,6})(h|d|w|mo|y)$/i;
const ABSOLUTE = /^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

function numericFilter(field: NumericFilterName, op: FilterOp, value: string, pos: number): QueryNode {
  const bound = { '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' } as const;
  if (op !== ':') {
    return { kind: 'range', field, [bound[op]]: number(field, value, pos) };
  }
  const dots = value.indexOf('..');
  if (dots < 0) {
    const n = number(field, value, pos);
    return { kind: 'range', field, gte: n, lte: n };
  }
  const lo = value.slice(0, dots);
  const hi = value.slice(dots + 2);
  if (lo === '' && hi === '') {
    throw new QueryError(`expected a number on at least one side of '..' for '${field}'`, pos);
  }
  const node: RangeNode = { kind: 'range', field };
  if (lo !== '') {
    node.gte = number(field, lo, pos);
  }
  if (hi !== '') {
    node.lte = number(field, hi, pos + dots + 2);
  }
  if (node.gte !== undefined && node.lte !== undefined && node.gte > node.lte) {
    throw new QueryError(`empty range for '${field}': the minimum ${lo} is greater than the maximum ${hi}`, pos);
  }
  return node;
}

function number(field: string, text: string, pos: number): number {
  const n = Number(text);
  if (!NUMBER.test(text) || !Number.isFinite(n)) {
    throw new QueryError(`expected a number for '${field}' (like 8, 0.05 or 1e-4), got '${text}'`, pos);
  }
  return n;
}

function formatValue(text: string, pos: number): FormatId {
  const id = FORMAT_ALIASES.get(text.toLowerCase());
  if (id === undefined) {
    const aliases = adapters.flatMap((a) => a.aliases ?? []);
    throw new QueryError(`unknown format '${text}': expected one of ${adapters.map((a) => a.id).join(', ')} (or ${aliases.join(', ')})`, pos);
  }
  return id;
}

function statusValue(text: string, pos: number): RunStatus {
  const parsed = RunStatus.safeParse(text.toLowerCase().replace('-', '_'));
  if (!parsed.success) {
    throw new QueryError(`unknown status '${text}': expected one of ${RunStatus.options.join(', ')}`, pos);
  }
  return parsed.data;
}

function dateValue(text: string, pos: number): DateNode['value'] {
  const rel = RELATIVE.exec(text);
  if (rel) {
    return { kind: 'ago', amount: Number(rel[1]), unit: (rel[2] as string).toLowerCase() as RelativeUnit };
  }
  const abs = ABSOLUTE.exec(text);
  if (abs) {
    const withZone = abs[2] && !abs[5] ? `${text}Z` : text;
    const ms = Date.parse(withZone);
    // Date.parse rolls 2025-02-30 over to March; a round trip of the day catches that.
    if (Number.isFinite(ms) && (abs[5] || new Date(ms).toISOString().slice(0, 10) === abs[1])) {
      return { kind: 'at', iso: new Date(ms).toISOString() };
    }
  }
  throw new QueryError(`expected a date like 30d, 12h, 2w, 6mo, 1y or 2025-01-01, got '${text}'`, pos);
}
