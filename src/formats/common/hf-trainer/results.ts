import { parseTolerantJson } from '../../../text/tolerant-json.ts';
import { ResultsJson, TrainingArgsJson } from './schema.ts';
import type { ParseResult } from '../../kit/result.ts';

/** Result files `trainer.save_metrics()` writes, in merge order: later files win per key (all_results is the union). */
export const RESULT_FILES = ['all_results.json', 'train_results.json', 'eval_results.json', 'predict_results.json', 'test_results.json'] as const;

/** Parses a `*_results.json`: the numeric metrics (NaN/Infinity and non-numbers dropped). Never throws. */
export function parseResultsJson(text: string): ParseResult<Record<string, number>> {
  const json = parseTolerantJson(text);
  if (!json.ok) {
    return { ok: false, message: json.message };
  }
  const parsed = ResultsJson.safeParse(json.value);
  return parsed.success && !Array.isArray(json.value) ? { ok: true, value: parsed.data } : { ok: false, message: 'not a metrics object' };
}

/** Parses a `training_args.json` (flat TrainingArguments dump). Never throws. */
export function parseTrainingArgsJson(text: string): ParseResult<Record<string, unknown>> {
  const json = parseTolerantJson(text);
  if (!json.ok) {
    return { ok: false, message: json.message };
  }
  const parsed = TrainingArgsJson.safeParse(json.value);
  return parsed.success && !Array.isArray(json.value) ? { ok: true, value: parsed.data } : { ok: false, message: 'not an object' };
}
