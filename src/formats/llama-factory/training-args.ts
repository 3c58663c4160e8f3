import { Yaml } from '../../text/yaml.ts';
import { LlamaboardConfig, TrainingArgsYaml } from './schema.ts';
import type { ParseResult } from '../kit/result.ts';

export interface TrainingArgsInfo {
  args: TrainingArgsYaml;
  /** The whole mapping, for the record's config values. */
  values: Record<string, unknown>;
}

export interface LlamaboardInfo {
  board: LlamaboardConfig;
  values: Record<string, unknown>;
}

/** Parses `training_args.yaml` (aliases capped, see MAX_YAML_ALIASES). Never throws. */
export function parseTrainingArgsYaml(text: string): ParseResult<TrainingArgsInfo> {
  const values = parseYamlMapping(text);
  if (!values.ok) {
    return values;
  }
  const args = TrainingArgsYaml.safeParse(values.value);
  return args.success ? { ok: true, value: { args: args.data, values: values.value } } : { ok: false, message: 'unexpected training_args shape' };
}

/** Parses `llamaboard_config.yaml`. Never throws. */
export function parseLlamaboardConfig(text: string): ParseResult<LlamaboardInfo> {
  const values = parseYamlMapping(text);
  if (!values.ok) {
    return values;
  }
  const board = LlamaboardConfig.safeParse(values.value);
  return board.success ? { ok: true, value: { board: board.data, values: values.value } } : { ok: false, message: 'unexpected llamaboard_config shape' };
}

// --- internal ---

function parseYamlMapping(text: string): ParseResult<Record<string, unknown>> {
  const parsed = Yaml.safeParse(text);
  if (!parsed.success) {
    return { ok: false, message: parsed.error.issues[0]?.message ?? 'invalid YAML' };
  }
  const value = parsed.data;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, message: 'not a YAML mapping' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}
