import { parse as parseToml } from 'smol-toml';
import type { DatasetDir } from '../../record/schema.ts';
import { tomlErrorMessage } from '../../text/parse-error-message.ts';
import { parseTolerantJson } from '../../text/tolerant-json.ts';
import { baseModelFamily } from './family.ts';
import { DatasetEntry, DatasetSubset, DatasetToml, KohyaTrainingValues, isTable } from './schema.ts';
import type { ParseResult } from '../kit/result.ts';

/** Run fields a kohya file tells; `undefined` = this file does not say. Metadata and config facts are merged later. */
export interface KohyaFacts {
  base_model?: string;
  base_model_family?: string;
  lora_rank?: number;
  lora_alpha?: number;
  learning_rate?: number;
  learning_rates: Record<string, number>;
  batch_size?: number;
  epochs?: number;
  total_steps?: number;
  optimizer?: string;
  resolution?: string;
  network_module?: string;
  data_dir?: string;
  dataset_dirs: DatasetDir[];
  output_dir?: string;
  output_name?: string;
  notes?: string;
}

/** A training config (`--config_file` TOML or kohya_ss GUI JSON) read into facts plus the keys that link to other files. */
export interface KohyaTrainingConfig {
  /** Flattened values as sd-scripts sees them (sections dropped, last key wins). */
  values: Record<string, unknown>;
  facts: KohyaFacts;
  logging_dir?: string;
  log_prefix?: string;
  log_tracker_name?: string;
  sample_prompts?: string;
  dataset_config?: string;
  run_id?: string;
  gradient_accumulation_steps?: number;
}

export type { ParseResult };

/** Keys only a training config has; a TOML without any of them is a dataset config or something else. */
const TRAINING_KEYS = [
  'network_module',
  'pretrained_model_name_or_path',
  'network_dim',
  'output_dir',
  'output_name',
  'learning_rate',
  'unet_lr',
  'optimizer_type',
  'max_train_epochs',
  'max_train_steps',
];

/**
 * Parses a `--config_file` TOML the way `library/train_util.py:read_config_from_file` does: every table is
 * flattened into one namespace, later duplicates win. A UTF-8 BOM is dropped. Never throws.
 */
export function parseKohyaTrainingToml(text: string): ParseResult<KohyaTrainingConfig> {
  const doc = parseTomlText(text);
  if (!doc.ok) {
    return doc;
  }
  return { ok: true, value: trainingConfig(flattenSections(doc.value)) };
}

/** Parses a kohya_ss GUI JSON (`<output_name>_<YYYYmmdd-HHMMSS>.json`, or a saved GUI config). Never throws. */
export function parseKohyaGuiJson(text: string): ParseResult<KohyaTrainingConfig> {
  const parsed = parseTolerantJson(text);
  if (!parsed.ok) {
    return { ok: false, message: parsed.message };
  }
  if (!isTable(parsed.value)) {
    return { ok: false, message: 'not a JSON object' };
  }
  return { ok: true, value: trainingConfig(parsed.value) };
}

/** True when flattened values look like a training config rather than a dataset config. */
export function isTrainingValues(values: Record<string, unknown>): boolean {
  return TRAINING_KEYS.some((key) => key in values);
}

/** True when a parsed TOML document is a `--dataset_config` (`[[datasets]]` or `[general]` + subsets). */
export function isDatasetDoc(doc: Record<string, unknown>): boolean {
  return Array.isArray(doc['datasets']);
}

/** A dataset config's image folders with repeats, plus the first resolution and batch size it sets. */
export interface DatasetInfo {
  dataset_dirs: DatasetDir[];
  resolution?: string;
  batch_size?: number;
}

/**
 * Parses a `--dataset_config` TOML (`[general]`, `[[datasets]]`, `[[datasets.subsets]]`, `library/config_util.py`):
 * subset keys may sit at any level and the innermost wins. Never throws.
 */
export function parseDatasetToml(text: string): ParseResult<DatasetInfo> {
  const doc = parseTomlText(text);
  if (!doc.ok) {
    return doc;
  }
  const parsed = DatasetToml.parse(doc.value);
  const general = DatasetSubset.parse(parsed.general ?? {});
  const info: DatasetInfo = { dataset_dirs: [] };
  for (const rawDataset of parsed.datasets ?? []) {
    const dataset = DatasetEntry.parse(rawDataset);
    info.resolution ??= dataset.resolution ?? general.resolution;
    info.batch_size ??= dataset.batch_size ?? general.batch_size;
    for (const rawSubset of dataset.subsets ?? []) {
      const subset = DatasetSubset.parse(rawSubset);
      const path = subset.image_dir ?? subset.metadata_file;
      if (path === undefined) {
        continue;
      }
      info.dataset_dirs.push({ path, repeats: subset.num_repeats ?? dataset.num_repeats ?? general.num_repeats ?? null, images: null });
    }
  }
  return { ok: true, value: info };
}

/** Parses TOML text (BOM dropped) into a table; a syntax error is a result, not an exception. */
export function parseTomlText(text: string): ParseResult<Record<string, unknown>> {
  try {
    return { ok: true, value: parseToml(text.replace(/^\uFEFF/, '')) as Record<string, unknown> };
  } catch (err) {
    return { ok: false, message: tomlErrorMessage(err) };
  }
}

// --- internal ---

function flattenSections(doc: Record<string, unknown>): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    if (!isTable(value)) {
      define(flat, key, value);
      continue;
    }
    for (const [inner, innerValue] of Object.entries(value)) {
      define(flat, inner, innerValue);
    }
  }
  return flat;
}

function trainingConfig(values: Record<string, unknown>): KohyaTrainingConfig {
  const v = KohyaTrainingValues.parse(values);
  const learning_rates: Record<string, number> = {};
  for (const key of ['learning_rate', 'unet_lr', 'text_encoder_lr'] as const) {
    const rate = v[key];
    if (rate !== undefined) {
      learning_rates[key] = rate;
    }
  }
  const epochs = positive(v.max_train_epochs) ?? positive(v.epoch);
  const facts: KohyaFacts = {
    base_model: v.pretrained_model_name_or_path,
    base_model_family:
      baseModelFamily({
        networkModule: v.network_module,
        v2: v.v2,
        sdxl: v.sdxl,
        flux: v.flux1_checkbox,
        sd3: v.sd3_checkbox,
        modelType: v.model_type,
        baseModel: v.pretrained_model_name_or_path,
      }) ?? undefined,
    lora_rank: v.network_dim,
    lora_alpha: v.network_alpha,
    learning_rate: v.learning_rate ?? v.unet_lr,
    learning_rates,
    batch_size: v.train_batch_size,
    epochs,
    total_steps: positive(v.max_train_steps),
    optimizer: v.optimizer_type ?? v.optimizer,
    resolution: v.resolution ?? v.max_resolution,
    network_module: v.network_module,
    data_dir: v.train_data_dir,
    dataset_dirs: v.train_data_dir ? [{ path: v.train_data_dir, repeats: null, images: null }] : [],
    output_dir: v.output_dir,
    output_name: v.output_name,
    notes: v.training_comment,
  };
  return {
    values,
    facts,
    logging_dir: v.logging_dir,
    log_prefix: v.log_prefix,
    log_tracker_name: v.log_tracker_name,
    sample_prompts: v.sample_prompts,
    dataset_config: v.dataset_config,
    run_id: v.run_id,
    gradient_accumulation_steps: v.gradient_accumulation_steps,
  };
}

function positive(n: number | undefined): number | undefined {
  return n !== undefined && n > 0 ? n : undefined;
}

/** Plain assignment would let a `__proto__` key from a file reach the prototype. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
