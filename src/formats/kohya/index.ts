import { readSafetensorsHeader } from '../common/safetensors.ts';
import { FileError } from '../../errors.ts';
import type { FormatAdapter, ParseContext, RunDraft } from '../types.ts';
import type { KohyaFacts } from './config.ts';
import { collectArtifacts, decideStatus, scanFiles, settleFinals, type RunFiles, type WeightsFile } from './files.ts';
import { findLinkedEventFiles } from './log-link.ts';
import { readCheckpointSteps } from './checkpoint-steps.ts';
import { chooseLogDir, readLoss } from './loss.ts';
import { parseKohyaMetadata, type KohyaMetadata } from './metadata.ts';
import { kohyaMarkers } from './markers.ts';
import { readPrompts } from './read-prompts.ts';
import { readConfigs, readParentConfigs, type FoundConfigs } from './read-config.ts';

export { parseDatasetToml, parseKohyaGuiJson, parseKohyaTrainingToml } from './config.ts';
export { parseKohyaMetadata } from './metadata.ts';
export { parseSamplePrompts } from './prompts.ts';

/** Files that may carry an explicit run id (their content, a UUID, wins over everything else). */
const RUN_ID_FILES = new Set(['run_id', 'run-id.txt', '.run_id']);

/** Weights headers tried per run: the preferred file, then one fallback if it is unreadable. */
const MAX_HEADER_TRIES = 2;

export const kohya: FormatAdapter = {
  id: 'kohya',
  aliases: ['kohya-ss', 'sd-scripts'],
  markers: kohyaMarkers,
  async parse(ctx) {
    const { listing } = ctx;
    const scanned = scanFiles(listing);
    const stems = [...new Set(scanned.weights.map((w) => w.parsed.stem))];
    let configs = await readConfigs(ctx, scanned.tomls, scanned.guiJsons);
    if (configs.training === null && scanned.weights.length > 0) {
      configs = (await readParentConfigs(ctx, listing.dir, stems)) ?? configs;
    }
    const config = configs.training?.config;
    const { meta, error: headerError } = await readMetadata(ctx, settleFinals(scanned, config?.facts.output_name), config?.facts.output_name);
    const files = settleFinals(scanned, meta?.facts.output_name ?? config?.facts.output_name);
    const local = chooseLogDir(files.events, meta?.startedAt ?? firstMtime(files));
    const linked =
      local.length > 0
        ? []
        : chooseLogDir(
            await findLinkedEventFiles(ctx, {
              runDir: listing.dir,
              logging_dir: config?.logging_dir,
              log_prefix: config?.log_prefix,
              log_tracker_name: config?.log_tracker_name,
              output_dir: config?.facts.output_dir,
              // Without --log_prefix the folder is the bare timestamp; GUIs often use the output name anyway.
              stems: [...(config?.logging_dir !== undefined ? [''] : []), ...(meta?.facts.output_name ? [meta.facts.output_name] : []), ...stems],
            }),
            meta?.startedAt ?? firstMtime(files),
          );
    const logFiles = local.length > 0 ? local : linked;
    const stepsPerEpoch = meta?.numBatchesPerEpoch
      ? Math.ceil(meta.numBatchesPerEpoch / (meta.gradientAccumulationSteps ?? config?.gradient_accumulation_steps ?? 1))
      : null;
    const loss =
      logFiles.length > 0
        ? await readLoss(ctx, logFiles, { stepsPerEpoch, checkpointSteps: async () => readCheckpointSteps(ctx, files, meta?.fromFinal ? meta : null) })
        : null;
    const broken = configs.broken ?? headerError;
    if (!meta && !config && !loss && broken) {
      // Nothing readable describes the run: a parse_error record names the file instead of an empty record.
      throw new FileError(broken.key, broken.message);
    }
    const facts = mergeFacts(meta?.facts, config?.facts, configs);
    const outputName = facts.output_name ?? (stems.length === 1 ? stems[0] : undefined);
    const status = decideStatus({
      files,
      outputName,
      finalEpoch: meta?.fromFinal ? meta.epoch : undefined,
      numEpochs: meta?.fromFinal ? meta.numEpochs : undefined,
      linkedLogMtime: linked.length > 0 ? Math.max(...linked.map((f) => f.mtime)) : undefined,
      linkedLogKeys: linked.map((f) => f.key),
      lastWallTime: loss?.lastWallTime,
      savedAt: meta?.finishedAt,
      steps: meta?.steps,
      maxSteps: meta?.maxTrainSteps,
      now: ctx.now,
    });
    const prompts = await readPrompts(ctx, config?.sample_prompts);
    const bestEpoch = loss?.bestEpoch ?? null;
    const bestCheckpoint = bestEpoch !== null && outputName ? checkpointFor(files, outputName, bestEpoch, meta?.numEpochs ?? facts.epochs) : null;
    const startedAt = meta?.startedAt ?? loss?.firstWallTime ?? null;
    const draft: RunDraft = {
      identity: {
        explicit: (await readExplicitId(ctx)) ?? config?.run_id ?? null,
        content: meta?.sessionId ? [meta.sessionId, meta.startedAt].filter((v) => v !== undefined).join(':') : (logFiles[0]?.writerId ?? null),
      },
      status: status.status,
      status_evidence: status.evidence,
      status_inputs: status.inputs,
      base_model: facts.base_model ?? null,
      base_model_family: facts.base_model_family ?? null,
      lora_rank: facts.lora_rank ?? null,
      lora_alpha: facts.lora_alpha ?? null,
      learning_rate: facts.learning_rate ?? null,
      learning_rate_source: meta?.facts.learning_rate !== undefined ? 'ss_metadata' : config?.facts.learning_rate !== undefined ? 'config' : null,
      learning_rates: facts.learning_rates,
      batch_size: facts.batch_size ?? null,
      epochs: facts.epochs ?? null,
      total_steps: facts.total_steps ?? null,
      optimizer: facts.optimizer ?? null,
      resolution: facts.resolution ?? null,
      network_module: facts.network_module ?? null,
      data_dir: facts.data_dir ?? (facts.dataset_dirs.length === 1 ? (facts.dataset_dirs[0]?.path ?? null) : null),
      dataset_dirs: facts.dataset_dirs,
      tag_summary: meta?.tagSummary ?? [],
      tags: (meta?.tagSummary ?? []).map((t) => t.tag),
      prompts,
      prompt_example: prompts[0] ?? null,
      notes: facts.notes ?? null,
      output_dir: facts.output_dir ?? null,
      output_name: outputName ?? null,
      started_at: isoFromUnix(startedAt),
      created_at_source: meta?.startedAt !== undefined ? 'ss_training_started_at' : startedAt !== null ? 'tfevents-wall-time' : null,
      finished_at: status.status === 'completed' ? isoFromUnix(meta?.fromFinal ? (meta.finishedAt ?? null) : (loss?.lastWallTime ?? null)) : null,
      loss_final: loss?.lossFinal ?? null,
      loss_min: loss?.lossMin ?? null,
      best_epoch: loss?.bestEpoch ?? null,
      best_checkpoint: bestCheckpoint,
      loss_per_epoch: loss?.perEpoch ?? [],
      loss_source: loss && loss.points > 0 ? 'tfevents' : 'none',
      artifacts: collectArtifacts(files, listing.dir),
      config: configs.training
        ? { file: configs.training.key, syntax: configs.training.syntax, text: configs.training.text, values: configs.training.config.values }
        : { file: null, syntax: 'none', text: null, values: {} },
    };
    return draft;
  },
};

// --- internal ---

interface ReadMetadata extends KohyaMetadata {
  /** Read from the final `<output_name>.safetensors`, not from an epoch/step checkpoint. */
  fromFinal: boolean;
}

/** Reads `ss_*` metadata with ranged reads: the final `<output_name>.safetensors` first, else the newest checkpoint. */
async function readMetadata(
  ctx: ParseContext,
  files: RunFiles,
  outputName: string | undefined,
): Promise<{ meta: ReadMetadata | null; error: { key: string; message: string } | null }> {
  let error: { key: string; message: string } | null = null;
  const safetensors = files.weights.filter((w) => w.name.endsWith('.safetensors'));
  const finals = safetensors.filter((w) => w.parsed.kind === 'final');
  const preferred = finals.filter((w) => w.parsed.stem === outputName);
  const order: WeightsFile[] = [...preferred.reverse(), ...finals.reverse(), ...safetensors.filter((w) => w.parsed.kind !== 'final').reverse()];
  const tried = new Set<string>();
  for (const file of order) {
    if (tried.has(file.key) || tried.size >= MAX_HEADER_TRIES) {
      continue;
    }
    tried.add(file.key);
    const header = await readSafetensorsHeader((range) => ctx.driver.read(file.key, range), file.size);
    if (!header.ok) {
      ctx.warn(`safetensors ${file.key}: ${header.code}: ${header.message}`);
      error = { key: file.key, message: `safetensors header ${header.code}: ${header.message}` };
      continue;
    }
    if (header.metadata === null) {
      continue;
    }
    const meta = parseKohyaMetadata(header.metadata);
    // `ss_output_name` equal to the file's whole name: the final weights, whatever the name's suffix looks like.
    const fromFinal = file.parsed.kind === 'final' || (meta.facts.output_name !== undefined && file.name === `${meta.facts.output_name}.safetensors`);
    return { meta: meta.isKohya ? { ...meta, fromFinal } : null, error };
  }
  return { meta: null, error };
}

/** Metadata says what actually ran; the config fills what the metadata lacks; the dataset config fills the rest. */
function mergeFacts(meta: KohyaFacts | undefined, config: KohyaFacts | undefined, configs: FoundConfigs): KohyaFacts {
  const dataset = configs.dataset?.info;
  const merged: KohyaFacts = { learning_rates: { ...config?.learning_rates, ...meta?.learning_rates }, dataset_dirs: [] };
  const keys = [
    'base_model',
    'base_model_family',
    'lora_rank',
    'lora_alpha',
    'learning_rate',
    'batch_size',
    'epochs',
    'total_steps',
    'optimizer',
    'resolution',
    'network_module',
    'data_dir',
    'output_dir',
    'output_name',
    'notes',
  ] as const;
  for (const key of keys) {
    const value = meta?.[key] ?? config?.[key];
    if (value !== undefined) {
      Object.assign(merged, { [key]: value });
    }
  }
  merged.batch_size ??= dataset?.batch_size;
  merged.resolution ??= dataset?.resolution;
  const fromMeta = meta?.dataset_dirs ?? [];
  merged.dataset_dirs = fromMeta.length > 0 ? fromMeta : dataset && dataset.dataset_dirs.length > 0 ? dataset.dataset_dirs : (config?.dataset_dirs ?? []);
  return merged;
}

function checkpointFor(files: RunFiles, outputName: string, epoch: number, numEpochs: number | undefined): string | null {
  const name = `${outputName}-${String(epoch).padStart(6, '0')}.safetensors`;
  if (files.weights.some((w) => w.name === name)) {
    return name;
  }
  // sd-scripts writes no epoch file for the last epoch: the final weights are that epoch.
  const final = `${outputName}.safetensors`;
  return epoch === numEpochs && files.weights.some((w) => w.name === final) ? final : null;
}

async function readExplicitId(ctx: ParseContext): Promise<string | null> {
  for (const [i, name] of ctx.listing.names.entries()) {
    const entry = ctx.listing.entries[i];
    if (RUN_ID_FILES.has(name) && entry && entry.size < 4096) {
      const text = await ctx.readText(entry.key, 4096);
      if (text?.trim()) {
        return text.trim();
      }
    }
  }
  return null;
}

function firstMtime(files: RunFiles): number | null {
  const first = files.weights[0] ?? files.states[0];
  return first ? first.mtime / 1000 : null;
}

function isoFromUnix(seconds: number | null | undefined): string | null {
  return seconds === null || seconds === undefined || !Number.isFinite(seconds) ? null : new Date(seconds * 1000).toISOString();
}
