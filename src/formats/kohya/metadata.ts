import type { DatasetDir, TagCount } from '../../record/schema.ts';
import type { KohyaFacts } from './config.ts';
import { baseModelFamily } from './family.ts';
import { SsMetadata, isTable } from './schema.ts';

/** What the `__metadata__` of a kohya `.safetensors` says about its run. */
export interface KohyaMetadata {
  facts: KohyaFacts;
  /** `ss_session_id`: random per invocation, the same in every checkpoint of it. */
  sessionId?: string;
  /** Unix seconds (float). */
  startedAt?: number;
  /** Unix seconds; in an epoch/step file this is that save's time. */
  finishedAt?: number;
  epoch?: number;
  numEpochs?: number;
  steps?: number;
  maxTrainSteps?: number;
  numBatchesPerEpoch?: number;
  gradientAccumulationSteps?: number;
  baseModelHash?: string;
  /** Top tags over all dataset folders, by count. */
  tagSummary: TagCount[];
  /** Distinct tags over all dataset folders. */
  tagCount: number;
  /** Whether any `ss_*` key was present (a plain diffusers/ComfyUI file has none). */
  isKohya: boolean;
}

/** Tags kept in tag_summary; the vocabulary can hold thousands. */
export const MAX_TAGS = 50;

/** Reads kohya `ss_*` metadata (all values are strings: Python `str()`, JSON-in-string). Never throws. */
export function parseKohyaMetadata(record: Record<string, string>): KohyaMetadata {
  const m = SsMetadata.parse(record);
  const learning_rates: Record<string, number> = {};
  for (const [key, rate] of [
    ['learning_rate', m.ss_learning_rate],
    ['unet_lr', m.ss_unet_lr],
    ['text_encoder_lr', m.ss_text_encoder_lr],
  ] as const) {
    if (rate !== undefined) {
      learning_rates[key] = rate;
    }
  }
  const tags = tagCounts(m.ss_tag_frequency, m.ss_datasets);
  const datasets = datasetSummary(m.ss_datasets);
  const dirs = datasetDirs(m.ss_dataset_dirs);
  const facts: KohyaFacts = {
    base_model: m.ss_sd_model_name,
    base_model_family:
      baseModelFamily({
        baseModelVersion: m.ss_base_model_version,
        architecture: m['modelspec.architecture'],
        networkModule: m.ss_network_module,
        v2: m.ss_v2,
        v2FromMetadata: true,
        baseModel: m.ss_sd_model_name,
      }) ?? undefined,
    lora_rank: m.ss_network_dim,
    lora_alpha: m.ss_network_alpha,
    learning_rate: m.ss_learning_rate ?? m.ss_unet_lr,
    learning_rates,
    batch_size: m.ss_batch_size_per_device ?? datasets.batchSize,
    epochs: m.ss_num_epochs,
    total_steps: m.ss_max_train_steps,
    optimizer: m.ss_optimizer,
    resolution: m.ss_resolution ?? datasets.resolution ?? m['modelspec.resolution'],
    network_module: m.ss_network_module,
    dataset_dirs: dirs.length > 0 ? dirs : datasets.dirs,
    output_name: m.ss_output_name,
    notes: m.ss_training_comment,
  };
  return {
    facts,
    sessionId: m.ss_session_id,
    startedAt: m.ss_training_started_at,
    finishedAt: m.ss_training_finished_at,
    epoch: m.ss_epoch,
    numEpochs: m.ss_num_epochs,
    steps: m.ss_steps,
    maxTrainSteps: m.ss_max_train_steps,
    numBatchesPerEpoch: m.ss_num_batches_per_epoch,
    gradientAccumulationSteps: m.ss_gradient_accumulation_steps,
    baseModelHash: m.ss_new_sd_model_hash ?? m.ss_sd_model_hash,
    tagSummary: tags.slice(0, MAX_TAGS),
    tagCount: tags.length,
    isKohya: Object.keys(record).some((key) => key.startsWith('ss_')),
  };
}

// --- internal ---

/** `ss_dataset_dirs` = `{"16_smf girl": {"n_repeats": 16, "img_count": 43}}`; the folder prefix is DreamBooth's repeats. */
function datasetDirs(raw: unknown): DatasetDir[] {
  if (!isTable(raw)) {
    return [];
  }
  return Object.entries(raw).map(([path, info]) => {
    const entry = isTable(info) ? info : {};
    const fromName = /^(\d+)_/.exec(path);
    return {
      path,
      repeats: finite(entry['n_repeats']) ?? (fromName ? Number(fromName[1]) : null),
      images: finite(entry['img_count']),
    };
  });
}

interface DatasetSummary {
  dirs: DatasetDir[];
  resolution?: string;
  batchSize?: number;
}

/** `ss_datasets` (written with `--dataset_config`): a list of datasets with subsets. Only used for what `ss_dataset_dirs` lacks. */
function datasetSummary(raw: unknown): DatasetSummary {
  const out: DatasetSummary = { dirs: [] };
  if (!Array.isArray(raw)) {
    return out;
  }
  for (const dataset of raw.filter(isTable)) {
    const reso = dataset['resolution'];
    if (out.resolution === undefined && Array.isArray(reso) && reso.length === 2) {
      out.resolution = `${reso[0]}x${reso[1]}`;
    }
    out.batchSize ??= finite(dataset['batch_size_per_device']) ?? undefined;
    const subsets = Array.isArray(dataset['subsets']) ? dataset['subsets'].filter(isTable) : [];
    for (const subset of subsets) {
      const path = subset['image_dir'] ?? subset['metadata_file'];
      if (typeof path === 'string' && subset['is_reg'] !== true) {
        out.dirs.push({ path, repeats: finite(subset['num_repeats']), images: finite(subset['img_count']) });
      }
    }
  }
  return out;
}

/** Merges `{dir: {tag: count}}` over folders (from ss_tag_frequency, else each dataset's tag_frequency); sorted by count, then tag. */
function tagCounts(frequency: unknown, datasets: unknown): TagCount[] {
  const perDir: unknown[] = isTable(frequency)
    ? Object.values(frequency)
    : Array.isArray(datasets)
      ? datasets.filter(isTable).flatMap((d) => (isTable(d['tag_frequency']) ? Object.values(d['tag_frequency']) : []))
      : [];
  const totals = new Map<string, number>();
  for (const tags of perDir) {
    if (!isTable(tags)) {
      continue;
    }
    for (const [tag, count] of Object.entries(tags)) {
      const n = finite(count);
      const name = tag.trim();
      if (n !== null && name !== '') {
        totals.set(name, (totals.get(name) ?? 0) + n);
      }
    }
  }
  return [...totals].map(([tag, count]) => ({ tag, count })).sort((a, b) => b.count - a.count || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
}

function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
