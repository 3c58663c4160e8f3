import type { SourceEntry } from '../../sources/types.ts';
import { derived, sharedListing, type SharedListing } from '../kit/shared-listing.ts';
import type { ParseContext } from '../types.ts';
import {
  isDatasetDoc,
  isTrainingValues,
  parseDatasetToml,
  parseKohyaGuiJson,
  parseKohyaTrainingToml,
  parseTomlText,
  type DatasetInfo,
  type KohyaTrainingConfig,
} from './config.ts';
import type { RunFile } from './files.ts';

/** The training config a run was started with, as found next to its weights (or one folder up). */
export interface FoundConfig {
  key: string;
  syntax: 'toml' | 'json';
  text: string;
  config: KohyaTrainingConfig;
}

export interface FoundConfigs {
  training: FoundConfig | null;
  dataset: { key: string; info: DatasetInfo } | null;
  /** First file that could not be parsed, for the parse_error when nothing else is readable. */
  broken: { key: string; message: string } | null;
}

/** Configs are small; a multi-megabyte `.toml` is not one. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** Files listed when looking one folder up for a config (the folder also holds the dataset images). */
const MAX_PARENT_LISTED = 20_000;

/**
 * Reads the run's TOML configs (training and dataset, told apart by their keys) and, without a TOML training
 * config, the kohya_ss GUI JSON. Unparsable files become warnings.
 */
export async function readConfigs(ctx: ParseContext, tomls: readonly RunFile[], jsons: readonly RunFile[]): Promise<FoundConfigs> {
  const out: FoundConfigs = { training: null, dataset: null, broken: null };
  // kohya_ss writes one config_lora-<timestamp>.toml per launch: newest first.
  const ordered = [...tomls].sort((a, b) => b.mtime - a.mtime || b.name.localeCompare(a.name));
  const datasets: { key: string; text: string }[] = [];
  for (const file of ordered) {
    const text = await readSmall(ctx, file.key, out);
    if (text === null) {
      continue;
    }
    const doc = parseTomlText(text);
    if (!doc.ok) {
      ctx.warn(`${file.key}: ${doc.message}`);
      out.broken ??= { key: file.key, message: doc.message };
      continue;
    }
    if (isDatasetDoc(doc.value)) {
      datasets.push({ key: file.key, text });
      continue;
    }
    const parsed = parseKohyaTrainingToml(text);
    if (out.training === null && parsed.ok && isTrainingValues(parsed.value.values)) {
      out.training = { key: file.key, syntax: 'toml', text, config: parsed.value };
    }
  }
  if (out.training === null) {
    out.training = await readGuiJson(ctx, jsons, out);
  }
  const wanted = baseName(out.training?.config.dataset_config);
  const chosen = datasets.find((d) => baseName(d.key) === wanted) ?? datasets[0];
  if (chosen) {
    const info = parseDatasetToml(chosen.text);
    if (info.ok) {
      out.dataset = { key: chosen.key, info: info.value };
    }
  }
  return out;
}

/**
 * kohya-colab and hand-made projects keep `training_config.toml` one level above the `output/` folder that holds
 * the weights. A config there counts only when it names this folder (output_dir) or these weights (output_name).
 */
export async function readParentConfigs(ctx: ParseContext, runDir: string, stems: readonly string[]): Promise<FoundConfigs | null> {
  const slash = runDir.lastIndexOf('/');
  if (runDir === '') {
    return null;
  }
  const parent = slash < 0 ? '' : runDir.slice(0, slash);
  const folder = runDir.slice(slash + 1);
  const tomls: RunFile[] = [];
  const jsons: RunFile[] = [];
  const listing = await sharedListing(ctx.driver, parent);
  if (listing.error && listing.entries.length <= MAX_PARENT_LISTED) {
    throw listing.error;
  }
  const children = derived(listing, 'direct-children', (l) => directChildren(l, parent));
  for (const { at, item, name } of children) {
    if (at >= MAX_PARENT_LISTED) {
      break;
    }
    const file = { name, key: item.key, size: item.size, mtime: item.mtime };
    if (name.endsWith('.toml')) {
      tomls.push(file);
    } else if (name.endsWith('.json')) {
      jsons.push(file);
    }
  }
  if (tomls.length === 0 && jsons.length === 0) {
    return null;
  }
  const found = await readConfigs(ctx, tomls, jsons);
  const facts = found.training?.config.facts;
  const outputFolder = facts?.output_dir?.replaceAll('\\', '/').replace(/\/+$/, '').split('/').at(-1);
  const matches = facts !== undefined && (outputFolder === folder || (facts.output_name !== undefined && stems.includes(facts.output_name)));
  return matches ? found : null;
}

// --- internal ---

/** The files directly in `parent` (not in its sub-folders), with their place in the listing. */
function directChildren(listing: SharedListing, parent: string): Array<{ at: number; item: SourceEntry; name: string }> {
  const out: Array<{ at: number; item: SourceEntry; name: string }> = [];
  listing.entries.forEach((item, at) => {
    const name = item.key.slice(parent === '' ? 0 : parent.length + 1);
    if (!name.includes('/')) {
      out.push({ at, item, name });
    }
  });
  return out;
}

async function readGuiJson(ctx: ParseContext, jsons: readonly RunFile[], out: FoundConfigs): Promise<FoundConfig | null> {
  for (const file of jsons) {
    const text = await readSmall(ctx, file.key, out);
    if (text === null) {
      continue;
    }
    const parsed = parseKohyaGuiJson(text);
    if (!parsed.ok) {
      ctx.warn(`${file.key}: ${parsed.message}`);
      out.broken ??= { key: file.key, message: parsed.message };
      continue;
    }
    if (isTrainingValues(parsed.value.values)) {
      return { key: file.key, syntax: 'json', text, config: parsed.value };
    }
  }
  return null;
}

/** A config that is too large or not UTF-8 is a warning here: the weights may still describe the run. */
async function readSmall(ctx: ParseContext, key: string, out: FoundConfigs): Promise<string | null> {
  try {
    return await ctx.readText(key, MAX_CONFIG_BYTES);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    ctx.warn(message);
    out.broken ??= { key, message };
    return null;
  }
}

function baseName(path: string | undefined): string | undefined {
  return path?.replaceAll('\\', '/').split('/').at(-1);
}
