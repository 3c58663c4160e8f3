import { z } from 'zod';
import { denoiseFloat32 } from '../common/float32.ts';
import { parsePyLiteral } from '../common/py-literal.ts';
import { parseTolerantJson } from '../../text/tolerant-json.ts';

/**
 * Permissive input schemas of the raw kohya files. Every field is optional and coerced: kohya values are TOML
 * numbers, strings that hold numbers (`"1e-4"`, `""` for "unset" in GUI dumps), Python `str()` output in
 * safetensors metadata (`"True"`, `"None"`, `"(768, 768)"`) or JSON inside strings. A bad field becomes
 * `undefined`, never an error.
 */

/** A finite number from a number or a numeric string; `""`, `"None"` and text are `undefined`. */
export const Num = z
  .unknown()
  .transform((value) => toNumber(value))
  .optional();
/**
 * A metadata number: Python `str()` of a float64, except when a float32 was widened on its way (`"0.05999999865889549"`
 * for 0.06), which is stored as its shortest float32 decimal (see common/float32.ts).
 */
export const SsNum = z
  .unknown()
  .transform((value) => {
    const n = toNumber(value);
    return n === undefined ? undefined : denoiseFloat32(n);
  })
  .optional();
/** A non-empty trimmed string (numbers are stringified); empty and `"None"` are `undefined`. */
export const Str = z
  .unknown()
  .transform((value) => toText(value))
  .optional();
/** `true`/`false`, `"True"`/`"False"`, `"true"`/`"false"`. */
export const Bool = z
  .unknown()
  .transform((value) => toBool(value))
  .optional();
/** A number, or the first number of a list (`text_encoder_lr = [1e-5, 2e-5]` for several text encoders). */
export const NumOrFirst = z
  .unknown()
  .transform((value) => (Array.isArray(value) ? toNumber(value[0]) : toNumber(value)))
  .optional();
/** `512`, `"512,512"`, `"1024"`, `[1024, 1024]`, `"(768, 768)"` → `"WxH"`. */
export const Resolution = z
  .unknown()
  .transform((value) => toResolution(value))
  .optional();
/** A string holding JSON (ss_* metadata) or an already-parsed value; unparsable text is `undefined`. */
export const JsonInString = z
  .unknown()
  .transform((value): unknown => {
    if (typeof value !== 'string') {
      return value ?? undefined;
    }
    const parsed = parseTolerantJson(value);
    return parsed.ok ? parsed.value : undefined;
  })
  .optional();

/** The keys of a flattened `--config_file` TOML (or kohya_ss GUI JSON) that the adapter reads. */
export const KohyaTrainingValues = z.looseObject({
  pretrained_model_name_or_path: Str,
  output_dir: Str,
  output_name: Str,
  network_module: Str,
  network_dim: Num,
  network_alpha: Num,
  learning_rate: Num,
  unet_lr: NumOrFirst,
  text_encoder_lr: NumOrFirst,
  optimizer_type: Str,
  /** kohya_ss GUI JSON spells the optimizer key without `_type`. */
  optimizer: Str,
  train_batch_size: Num,
  max_train_epochs: Num,
  /** kohya_ss GUI: the epoch count it turns into `--max_train_epochs`. */
  epoch: Num,
  max_train_steps: Num,
  gradient_accumulation_steps: Num,
  resolution: Resolution,
  /** kohya_ss GUI name of `resolution`. */
  max_resolution: Resolution,
  train_data_dir: Str,
  dataset_config: Str,
  logging_dir: Str,
  log_prefix: Str,
  log_tracker_name: Str,
  sample_prompts: Str,
  training_comment: Str,
  run_id: Str,
  v2: Bool,
  sdxl: Bool,
  flux1_checkbox: Bool,
  sd3_checkbox: Bool,
  model_type: Str,
});
export type KohyaTrainingValues = z.infer<typeof KohyaTrainingValues>;

/** One `[[datasets.subsets]]` of a `--dataset_config`. */
export const DatasetSubset = z.looseObject({
  image_dir: Str,
  metadata_file: Str,
  num_repeats: Num,
  is_reg: Bool,
  class_tokens: Str,
  resolution: Resolution,
  batch_size: Num,
});
export type DatasetSubset = z.infer<typeof DatasetSubset>;

/** Drops list items that are not tables instead of failing the whole file. */
const TableList = z
  .unknown()
  .transform((value) => (Array.isArray(value) ? value.filter(isTable) : []))
  .optional();

export const DatasetEntry = z.looseObject({
  resolution: Resolution,
  batch_size: Num,
  num_repeats: Num,
  subsets: TableList,
});
export type DatasetEntry = z.infer<typeof DatasetEntry>;

/** `--dataset_config` TOML: `[general]` defaults, `[[datasets]]`, `[[datasets.subsets]]` (`library/config_util.py`). */
export const DatasetToml = z.looseObject({
  general: z
    .unknown()
    .transform((value) => (isTable(value) ? value : {}))
    .optional(),
  datasets: TableList,
});
export type DatasetToml = z.infer<typeof DatasetToml>;

/** The `ss_*` / `modelspec.*` keys of a kohya `.safetensors` header that the adapter reads. All values are strings. */
export const SsMetadata = z.looseObject({
  ss_session_id: Str,
  ss_training_started_at: SsNum,
  ss_training_finished_at: SsNum,
  ss_output_name: Str,
  ss_training_comment: Str,
  ss_epoch: SsNum,
  ss_num_epochs: SsNum,
  ss_steps: SsNum,
  ss_max_train_steps: SsNum,
  ss_num_batches_per_epoch: SsNum,
  ss_gradient_accumulation_steps: SsNum,
  ss_learning_rate: SsNum,
  ss_unet_lr: SsNum,
  ss_text_encoder_lr: SsNum,
  ss_optimizer: Str,
  ss_network_module: Str,
  ss_network_dim: SsNum,
  ss_network_alpha: SsNum,
  ss_network_args: JsonInString,
  ss_v2: Bool,
  ss_base_model_version: Str,
  ss_sd_model_name: Str,
  ss_sd_model_hash: Str,
  ss_new_sd_model_hash: Str,
  ss_resolution: Resolution,
  ss_batch_size_per_device: SsNum,
  ss_total_batch_size: SsNum,
  ss_dataset_dirs: JsonInString,
  ss_datasets: JsonInString,
  ss_tag_frequency: JsonInString,
  ss_num_train_images: SsNum,
  ss_sd_scripts_commit_hash: Str,
  'modelspec.architecture': Str,
  'modelspec.title': Str,
  'modelspec.resolution': Resolution,
});
export type SsMetadata = z.infer<typeof SsMetadata>;

/** `train_state.json` in a `*-state/` folder (`train_network.py` save_model_hook). */
export const TrainState = z.looseObject({ current_epoch: Num, current_step: Num });
export type TrainState = z.infer<typeof TrainState>;

export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

// --- internal ---

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : undefined;
  }
  if (typeof value === 'bigint') {
    return Number(value);
  }
  if (typeof value !== 'string') {
    return undefined;
  }
  const text = value.trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    return undefined;
  }
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

function toText(value: unknown): string | undefined {
  if (typeof value === 'number' || typeof value === 'bigint') {
    return String(value);
  }
  if (typeof value !== 'string') {
    return undefined;
  }
  const text = value.trim();
  return text === '' || text === 'None' ? undefined : text;
}

function toBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') {
    return value;
  }
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    return text === 'true' ? true : text === 'false' ? false : undefined;
  }
  return undefined;
}

function toResolution(value: unknown): string | undefined {
  let parts: unknown[] | undefined;
  if (typeof value === 'number') {
    parts = [value, value];
  } else if (Array.isArray(value)) {
    parts = value.length === 1 ? [value[0], value[0]] : value;
  } else if (typeof value === 'string') {
    const literal = value.trim().startsWith('(') ? parsePyLiteral(value.trim()) : undefined;
    parts = Array.isArray(literal) ? literal : value.split(/[,x×\s]+/).filter((p) => p !== '');
    if (parts.length === 1) {
      parts = [parts[0], parts[0]];
    }
  }
  const nums = parts?.map((p) => toNumber(p));
  if (!nums || nums.length !== 2 || nums.some((n) => n === undefined || n <= 0)) {
    return undefined;
  }
  return `${nums[0]}x${nums[1]}`;
}
