// Elasticsearch refuses a whole document that breaks one of its limits, and it would refuse it again on
// every sync: more than `index.mapping.nested_objects.limit` (10,000) nested objects, JSON nested deeper
// than the parser allows (1,000 levels), a keyword term over 32,766 bytes. A run that big or that odd is
// still a run: before writing, its document is cut to fit, and the cut is said in parse_warnings.
import type { RunRecord } from '../record/schema.ts';

/** Epochs kept in `loss_per_epoch` (nested): far more than any real curve needs, far under the 10,000 nested-object limit with the other nested fields. */
export const MAX_EPOCH_POINTS = 1000;
/** Items kept in each other nested field (tag_summary, dataset_dirs). */
export const MAX_NESTED_ITEMS = 2000;
/** Depth kept in `config.values` (stored, not indexed; the JSON parser refuses 1,000 levels in the whole document). */
export const MAX_VALUE_DEPTH = 64;
/** Characters kept of one string in `config.values` or of one prompt. */
export const MAX_VALUE_CHARS = 32 * 1024;
/** Characters kept of a key of the flattened maps (learning_rates, eval_metrics): the key is part of an indexed term. */
export const MAX_KEY_CHARS = 256;
/** Items kept in the string arrays (prompts, tags, target_modules). */
export const MAX_LIST_ITEMS = 1000;

/** What replaces a value cut at MAX_VALUE_DEPTH. */
export const DEPTH_MARKER = `[cut: nested deeper than ${MAX_VALUE_DEPTH} levels]`;

export interface Bounded {
  record: RunRecord;
  /** Exact length of the epoch series when it was downsampled, else null. */
  epochCount: number | null;
}

/** The record, cut to what the engine accepts; the same object when nothing needed cutting (the common case). */
export function boundRecord(record: RunRecord): Bounded {
  const notes: string[] = [];
  let out = record;
  let epochCount: number | null = null;
  if (record.loss_per_epoch.length > MAX_EPOCH_POINTS) {
    epochCount = record.loss_per_epoch.length;
    out = { ...out, loss_per_epoch: downsampleEpochs(record.loss_per_epoch) };
    notes.push(
      `loss_per_epoch downsampled from ${epochCount} to ${out.loss_per_epoch.length} epochs for the index (first, last and best kept; loss_per_epoch_count has the exact count)`,
    );
  }
  for (const field of ['tag_summary', 'dataset_dirs', 'prompts', 'tags', 'target_modules'] as const) {
    const limit = field === 'tag_summary' || field === 'dataset_dirs' ? MAX_NESTED_ITEMS : MAX_LIST_ITEMS;
    if (out[field].length > limit) {
      notes.push(`${field} cut from ${out[field].length} to ${limit} items for the index`);
      out = { ...out, [field]: out[field].slice(0, limit) };
    }
  }
  if (out.prompts.some((p) => p.length > MAX_VALUE_CHARS)) {
    notes.push(`prompts longer than ${MAX_VALUE_CHARS} characters cut for the index`);
    out = { ...out, prompts: out.prompts.map((p) => cutString(p)) };
  }
  for (const field of ['learning_rates', 'eval_metrics'] as const) {
    if (Object.keys(out[field]).some((k) => k.length > MAX_KEY_CHARS)) {
      notes.push(`${field} keys longer than ${MAX_KEY_CHARS} characters cut for the index`);
      out = { ...out, [field]: Object.fromEntries(Object.entries(out[field]).map(([k, v]) => [k.slice(0, MAX_KEY_CHARS), v])) };
    }
  }
  const cut = { depth: false, chars: false };
  const values = boundValue(out.config.values, 1, cut) as Record<string, unknown>;
  if (cut.depth || cut.chars) {
    out = { ...out, config: { ...out.config, values } };
    if (cut.depth) {
      notes.push(`config values nested deeper than ${MAX_VALUE_DEPTH} levels cut for the index (marked "${DEPTH_MARKER}"; config.text keeps the original)`);
    }
    if (cut.chars) {
      notes.push(`config values longer than ${MAX_VALUE_CHARS} characters cut for the index`);
    }
  }
  return notes.length === 0 ? { record, epochCount } : { record: { ...out, parse_warnings: [...out.parse_warnings, ...notes] }, epochCount };
}

// --- internal ---

/** Evenly spaced epochs, always the first, the last and the best (lowest mean), in epoch order. */
function downsampleEpochs(series: RunRecord['loss_per_epoch']): RunRecord['loss_per_epoch'] {
  const keep = new Set<number>();
  const step = (series.length - 1) / (MAX_EPOCH_POINTS - 2);
  for (let i = 0; i < MAX_EPOCH_POINTS - 1; i++) {
    keep.add(Math.round(i * step));
  }
  let best = 0;
  series.forEach((e, i) => {
    if (e.mean < (series[best] as (typeof series)[number]).mean) {
      best = i;
    }
  });
  keep.add(best);
  keep.add(series.length - 1);
  return [...keep].sort((a, b) => a - b).map((i) => series[i] as (typeof series)[number]);
}

/** A copy of `value` only where something is cut; `value` itself otherwise. Depth-limited recursion: never deeper than MAX_VALUE_DEPTH. */
function boundValue(value: unknown, depth: number, cut: { depth: boolean; chars: boolean }): unknown {
  if (typeof value === 'string') {
    if (value.length > MAX_VALUE_CHARS) {
      cut.chars = true;
      return cutString(value);
    }
    return value;
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  if (depth > MAX_VALUE_DEPTH) {
    cut.depth = true;
    return DEPTH_MARKER;
  }
  let copy: unknown[] | Record<string, unknown> | null = null;
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  for (const [k, v] of entries) {
    const bounded = boundValue(v, depth + 1, cut);
    if (bounded !== v) {
      copy ??= Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
      (copy as Record<string | number, unknown>)[k] = bounded;
    }
  }
  return copy ?? value;
}

/** Cut at a code point boundary (never half a surrogate pair), with a marker. */
function cutString(value: string): string {
  if (value.length <= MAX_VALUE_CHARS) {
    return value;
  }
  let end = MAX_VALUE_CHARS;
  const code = value.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) {
    end -= 1;
  }
  return `${value.slice(0, end)}… [cut: ${value.length} characters]`;
}
