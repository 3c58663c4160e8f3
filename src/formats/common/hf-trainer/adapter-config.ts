import { parseTolerantJson } from '../../../text/tolerant-json.ts';
import { AdapterConfig } from './schema.ts';
import type { ParseResult } from '../../kit/result.ts';

export interface AdapterConfigInfo {
  /** `base_model_name_or_path` as written: a hub id, an absolute or relative local path, or null. */
  baseModel: string | null;
  baseModelFamily: string | null;
  rank: number | null;
  alpha: number | null;
  targetModules: string[];
  peftType: string | null;
  taskType: string | null;
  /** The whole parsed object, for the record's config values. */
  values: Record<string, unknown>;
}

/**
 * Model families by name, first match wins. Distilled models are named after their base architecture
 * (`deepseek-r1-distill-llama-8b` is a llama), so generic lineage names like deepseek come last.
 */
const FAMILIES: readonly (readonly [RegExp, string])[] = [
  [/mi[sx]tral/, 'mistral'],
  [/qwen/, 'qwen'],
  [/llama|vicuna|alpaca/, 'llama'],
  [/falcon/, 'falcon'],
  [/whisper/, 'whisper'],
  [/gemma/, 'gemma'],
  [/chatglm|(?:^|[^a-z])glm/, 'glm'],
  [/baichuan/, 'baichuan'],
  [/internlm/, 'internlm'],
  [/(?:^|[^a-z])phi-?\d?(?:[^a-z]|$)/, 'phi'],
  [/(?:^|[^a-z])(?:flan-|m|byt)?t5(?:[^a-z0-9]|$)/, 't5'],
  [/(?:^|[^a-z])bart(?:[^a-z]|$)/, 'bart'],
  [/gpt-?neox|pythia/, 'gpt-neox'],
  [/gpt-?j(?:[^a-z]|$)/, 'gpt-j'],
  [/gpt2|gpt-2/, 'gpt2'],
  [/bloom/, 'bloom'],
  [/(?:^|[^a-z])opt-\d/, 'opt'],
  [/roberta|deberta|bert/, 'bert'],
  [/deepseek/, 'deepseek'],
  [/(?:^|[^a-z])yi-/, 'yi'],
  [/stablelm/, 'stablelm'],
  [/(?:^|[^a-z])mpt-/, 'mpt'],
];

/** Parses `adapter_config.json` text. Never throws. */
export function parseAdapterConfig(text: string): ParseResult<AdapterConfigInfo> {
  const json = parseTolerantJson(text);
  if (!json.ok) {
    return { ok: false, message: json.message };
  }
  const parsed = AdapterConfig.safeParse(json.value);
  if (!parsed.success || typeof json.value !== 'object' || json.value === null || Array.isArray(json.value)) {
    return { ok: false, message: 'not an adapter_config object' };
  }
  const config = parsed.data;
  const baseModel = config.base_model_name_or_path?.trim() || null;
  return {
    ok: true,
    value: {
      baseModel,
      baseModelFamily: modelFamily(baseModel),
      rank: config.r,
      alpha: config.lora_alpha,
      targetModules: config.target_modules,
      peftType: config.peft_type,
      taskType: config.task_type,
      values: json.value as Record<string, unknown>,
    },
  };
}

/** Short family of a model id or path (`Qwen/Qwen2.5-3B-Instruct` → `qwen`), from its last two path segments. */
export function modelFamily(model: string | null): string | null {
  if (model === null) {
    return null;
  }
  const name = model.replaceAll('\\', '/').replace(/\/+$/, '').split('/').slice(-2).join('/').toLowerCase();
  for (const [pattern, family] of FAMILIES) {
    if (pattern.test(name)) {
      return family;
    }
  }
  return null;
}
