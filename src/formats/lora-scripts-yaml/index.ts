import { hash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { yamlErrorMessage } from '../../text/parse-error-message.ts';
import type { Artifact, StatusInputs } from '../../record/schema.ts';
import { SPECIFICITY } from '../kit/markers.ts';
import { deriveStatus, lastActivity, stepCount, type DerivedStatus, type LogTime } from '../kit/run-status.ts';
import { FileError } from '../../errors.ts';
import { parseFlatYaml } from '../../text/flat-yaml.ts';
import type { FormatAdapter, ParseContext, RunDraft } from '../types.ts';
import { aggregateTextLoss, aggregateTextLossOf } from './log-text.ts';
import { LoraScriptsConfig, SIGNATURE_KEYS } from './schema.ts';

/** Config files in the order they are tried: the backup the trainer copies into its output wins over a working copy. */
const CONFIG_NAME = /^(config_backup|config|train|training|lora|[\w.-]+)\.ya?ml$|^configs\/[\w.-]+\.ya?ml$/;
const LOG_NAME = /^(logs\/)?[\w.-]*\.(log|txt)$/;
const WEIGHTS_NAME = /\.safetensors$/;
/** Detection: a YAML config (the names `CONFIG_NAME` reads) next to what a run leaves (a text log, checkpoints, weights at the root, TensorBoard events under logs/). */
const CONFIG_GLOBS = ['+([\\w.-]).{yaml,yml}', 'configs/+([\\w.-]).{yaml,yml}'];
const RUN_EVIDENCE = ['*([\\w.-]).{log,txt}', 'logs/*([\\w.-]).{log,txt}', 'checkpoints/**', '*.safetensors', 'logs/events.out.tfevents*'];
/** YAML aliases allowed while parsing a config; a billion-laughs file has thousands. */
const MAX_YAML_ALIASES = 50;
/** Logs up to this size are read whole; larger ones are streamed line by line. */
const SMALL_LOG = 1024 * 1024;

export const loraScriptsYaml: FormatAdapter = {
  id: 'lora-scripts-yaml',
  aliases: ['lora-scripts', 'yaml'],
  markers: {
    rules: [
      { all: [CONFIG_GLOBS, RUN_EVIDENCE], specificity: SPECIFICITY.anyConfig },
      // The config alone claims the folder (training has not written anything yet): weights or log folders known only by their names are not a run of their own there.
      { all: [CONFIG_GLOBS], specificity: SPECIFICITY.anyConfig, run: false },
    ],
  },
  async parse(ctx) {
    const found = await readConfig(ctx);
    if (!found) {
      return null;
    }
    const { file, text, values } = found;
    const config = LoraScriptsConfig.parse(values);
    const loss = await readLoss(ctx);
    const artifacts = collectArtifacts(ctx);
    const prompts = [config.prompt_example, config.sample_prompt, config.validation_prompt, ...(config.prompts ?? [])].filter(
      (p): p is string => typeof p === 'string' && p.trim() !== '',
    );
    const best = loss?.perEpoch.reduce((a, b) => (b.mean < a.mean ? b : a), loss.perEpoch[0] ?? { epoch: -1, mean: Infinity });
    const status = decideStatus(ctx, artifacts, loss, config.max_train_steps);
    const draft: RunDraft = {
      // Config text + the first logged time survive a move or rsync; two launches of one config differ in their start time.
      identity: {
        explicit: config.run_id ?? null,
        content: loss?.firstTime ? `${hash('sha256', text, 'hex').slice(0, 16)}@${loss.firstTime}` : null,
      },
      status: status.status,
      status_evidence: status.evidence,
      status_inputs: status.inputs,
      base_model: config.base_model ?? null,
      base_model_family: familyOf(config.base_model),
      lora_rank: config.lora_rank ?? null,
      lora_alpha: config.lora_alpha ?? null,
      learning_rate: config.learning_rate ?? null,
      learning_rate_source: config.learning_rate === undefined || config.learning_rate === null ? null : 'config',
      learning_rates: config.learning_rate === undefined ? {} : { default: config.learning_rate },
      batch_size: config.batch_size ?? null,
      epochs: config.epochs ?? null,
      total_steps: config.max_train_steps ?? loss?.lastStep ?? null,
      optimizer: config.optimizer ?? null,
      resolution: config.resolution === undefined ? null : String(config.resolution),
      data_dir: config.train_data_dir ?? null,
      dataset_dirs: config.train_data_dir ? [{ path: config.train_data_dir, repeats: null, images: null }] : [],
      prompt_example: prompts[0] ?? null,
      prompts,
      tags: [...(config.tags ?? []), ...(config.task_type ? [`task:${config.task_type}`] : [])],
      notes: config.notes ?? config.description ?? null,
      output_dir: config.output_dir ?? null,
      output_name: config.output_name ?? null,
      started_at: loss?.firstTime ?? null,
      created_at_source: loss?.firstTime ? 'log-timestamp' : null,
      finished_at: status.status === 'completed' ? (loss?.lastTime ?? null) : null,
      loss_final: loss?.lossFinal ?? null,
      loss_min: loss?.lossMin ?? null,
      loss_per_epoch: loss?.perEpoch ?? [],
      loss_source: loss && loss.points > 0 ? 'log-text' : 'none',
      best_epoch: best && best.epoch >= 0 ? best.epoch : null,
      best_checkpoint: null,
      artifacts,
      config: { file, syntax: 'yaml', text, values },
    };
    return draft;
  },
};

// --- internal ---

interface FoundConfig {
  file: string;
  text: string;
  values: Record<string, unknown>;
}

async function readConfig(ctx: ParseContext): Promise<FoundConfig | null> {
  const candidates = ctx.listing.names.filter((name) => CONFIG_NAME.test(name)).sort((a, b) => rank(a) - rank(b));
  let firstError: FileError | null = null;
  for (const name of candidates) {
    const key = join(ctx.listing.dir, name);
    const text = await ctx.readText(key, 1024 * 1024);
    if (text === null) {
      continue;
    }
    let values: unknown;
    try {
      const source = text.replace(/^\uFEFF/, '');
      // Flat `key: value` configs (the article's) take a fast path with identical values; anything else the full parser.
      values = parseFlatYaml(source) ?? parseYaml(source, { maxAliasCount: MAX_YAML_ALIASES, prettyErrors: true });
    } catch (err) {
      firstError ??= new FileError(key, yamlErrorMessage(err), { cause: err });
      continue;
    }
    if (values !== null && typeof values === 'object' && !Array.isArray(values) && SIGNATURE_KEYS.some((k) => k in values)) {
      return { file: key, text, values: values as Record<string, unknown> };
    }
  }
  if (firstError) {
    throw firstError;
  }
  return null;
}

async function readLoss(ctx: ParseContext) {
  const logs = ctx.listing.names.filter((name) => LOG_NAME.test(name) && !/readme|requirements|prompt/i.test(name));
  const preferred = logs.find((name) => /train/i.test(name)) ?? logs[0];
  if (!preferred) {
    return null;
  }
  const key = join(ctx.listing.dir, preferred);
  const size = ctx.listing.entries[ctx.listing.names.indexOf(preferred)]?.size ?? Infinity;
  if (size <= SMALL_LOG) {
    // A small log is read whole and split in memory (no promise per line); one not valid as UTF-8 is streamed, which replaces bad bytes.
    const text = await ctx.readText(key, SMALL_LOG).catch(() => undefined);
    if (text !== undefined) {
      return text === null ? null : { ...aggregateTextLossOf(text), file: preferred };
    }
  }
  const lines = await ctx.readLines(key);
  return lines ? { ...(await aggregateTextLoss(lines)), file: preferred } : null;
}

function collectArtifacts(ctx: ParseContext): Artifact[] {
  const out: Artifact[] = [];
  ctx.listing.names.forEach((name, i) => {
    if (!WEIGHTS_NAME.test(name)) {
      return;
    }
    const step = /step[_-]?0*(\d+)/i.exec(name);
    out.push({
      path: name,
      size: ctx.listing.entries[i]?.size ?? 0,
      kind: name.startsWith('checkpoints/') ? 'checkpoint' : 'weights',
      epoch: null,
      step: step ? Number(step[1]) : null,
    });
  });
  return out;
}

/** Final weights at the top (not under checkpoints/) = completed; a failure line in the log = failed; the rest by time. */
function decideStatus(
  ctx: ParseContext,
  artifacts: Artifact[],
  loss: Awaited<ReturnType<typeof readLoss>>,
  maxSteps: number | undefined,
): DerivedStatus & { inputs: StatusInputs } {
  const finalWeights = artifacts.find((a) => a.kind === 'weights');
  const newest = ctx.listing.entries.reduce<number | null>((max, entry) => Math.max(max ?? entry.mtime, entry.mtime), null);
  const logMtime = loss ? (ctx.listing.entries[ctx.listing.names.indexOf(loss.file)]?.mtime ?? null) : null;
  const logTimes: LogTime[] = loss?.lastTime
    ? [{ at: Date.parse(loss.lastTime), source: 'log-text', zoneless: loss.lastTimeZoneless, fileMtime: logMtime }]
    : [];
  const inputs: StatusInputs = {
    max_steps: stepCount(maxSteps),
    last_step: stepCount(loss?.lastStep),
    final_artifact: finalWeights?.path ?? null,
    progressed: artifacts.length > 0 || (loss?.lastStep ?? 0) > 0,
    terminal: loss?.finished ? 'completed' : loss?.failure ? 'failed' : null,
    terminal_evidence: loss?.finished ? 'log says training finished' : loss?.failure ? `log reports: ${loss.failure}` : null,
    caveat: null,
    external_logs: [],
    ...lastActivity(logTimes, newest),
  };
  return { ...deriveStatus(inputs, ctx.now), inputs };
}

/** Short family names used by `base:` filters, guessed from a model path or hub id. */
export function familyOf(model: string | undefined | null): string | null {
  if (!model) {
    return null;
  }
  const m = model.toLowerCase();
  const rules: Array<[RegExp, string]> = [
    [/sdxl|sd_xl|xl[-_]base|stable-diffusion-xl/, 'sdxl'],
    [/flux/, 'flux'],
    [/sd3|stable-diffusion-3/, 'sd3'],
    [/v2-1|v2-0|sd2|stable-diffusion-2/, 'sd2'],
    [/v1-5|v1-4|sd15|sd-1|stable-diffusion-v1|sd_v1|anything|chilloutmix|realistic/, 'sd15'],
    [/llama/, 'llama'],
    [/qwen/, 'qwen'],
    [/mistral|mixtral/, 'mistral'],
  ];
  return rules.find(([re]) => re.test(m))?.[1] ?? null;
}

function rank(name: string): number {
  if (name.startsWith('config_backup.')) {
    return 0;
  }
  if (name.startsWith('config.')) {
    return 1;
  }
  return name.startsWith('configs/') ? 2 : 3;
}

function join(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}
