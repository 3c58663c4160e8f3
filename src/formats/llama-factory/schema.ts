import { z } from 'zod';
import { NumOrNull, StrOrNull } from '../common/hf-trainer/schema.ts';

export { AdapterConfig, ResultsJson, TrainerState } from '../common/hf-trainer/schema.ts';

/** Python `str(timedelta)`: `0:32:48`, `1 day, 0:08:23`, `9 days, 21:39:23`, with optional microseconds. */
const DURATION = /^(?:(\d+) days?, )?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/;

/** Seconds of a Python timedelta string, or null. */
export const Duration = z
  .string()
  .nullable()
  .catch(null)
  .transform((text) => (text === null ? null : durationSeconds(text)));
export type Duration = z.infer<typeof Duration>;

/** `throughput` was a formatted string (`"0.00"`) until Aug 2024, a number since. */
export const LooseNumber = z
  .union([z.number(), z.string().transform((s) => (s.trim() === '' ? null : Number(s)))])
  .nullable()
  .catch(null)
  .transform((n) => (n !== null && Number.isFinite(n) ? n : null));
export type LooseNumber = z.infer<typeof LooseNumber>;

/**
 * One `trainer_log.jsonl` line (LogCallback). Old lines (≤ 2024-05) carry every key with nulls and `learning_rate`;
 * newer ones drop nulls and say `lr`; the v1 trainer writes `step` instead of `current_steps`.
 */
export const TrainerLogLine = z
  .object({
    current_steps: NumOrNull,
    step: NumOrNull,
    total_steps: NumOrNull,
    loss: NumOrNull,
    eval_loss: NumOrNull,
    predict_loss: NumOrNull,
    lr: NumOrNull,
    learning_rate: NumOrNull,
    epoch: NumOrNull,
    percentage: NumOrNull,
    elapsed_time: Duration,
    remaining_time: Duration,
    throughput: LooseNumber,
    total_tokens: NumOrNull,
  })
  .transform((line) => ({ ...line, step: line.current_steps ?? line.step, lr: line.lr ?? line.learning_rate }));
export type TrainerLogLine = z.infer<typeof TrainerLogLine>;

/** `dataset: a,b` or a YAML list. */
const NameList = z
  .union([z.string().transform((s) => s.split(',')), z.array(z.unknown()).transform((items) => items.filter((i): i is string => typeof i === 'string'))])
  .nullable()
  .catch(null)
  .transform((names) => (names ?? []).map((n) => n.trim()).filter((n) => n !== ''));

/** `training_args.yaml` the web UI saves (`yaml.safe_dump` of the CLI args): the fields a record uses. */
export const TrainingArgsYaml = z.object({
  model_name_or_path: StrOrNull,
  stage: StrOrNull,
  finetuning_type: StrOrNull,
  lora_rank: NumOrNull,
  lora_alpha: NumOrNull,
  lora_target: z
    .union([z.string(), z.array(z.string()).transform((l) => l.join(','))])
    .nullable()
    .catch(null),
  dataset: NameList,
  eval_dataset: NameList,
  dataset_dir: StrOrNull,
  learning_rate: LooseNumber,
  num_train_epochs: LooseNumber,
  max_steps: LooseNumber,
  per_device_train_batch_size: NumOrNull,
  gradient_accumulation_steps: NumOrNull,
  optim: StrOrNull,
  output_dir: StrOrNull,
  do_train: z.boolean().nullable().catch(null),
});
export type TrainingArgsYaml = z.infer<typeof TrainingArgsYaml>;

/** `llamaboard_config.yaml`: flat `top.*`, `train.*`, `eval.*` keys of the web UI form. */
export const LlamaboardConfig = z.object({
  'top.model_name': StrOrNull,
  'top.finetuning_type': StrOrNull,
  'train.dataset': NameList,
  'eval.dataset': NameList,
  'train.training_stage': StrOrNull,
});
export type LlamaboardConfig = z.infer<typeof LlamaboardConfig>;

/** Seconds of `0:32:48` / `9 days, 21:39:23`, or null when the text is not a timedelta. */
export function durationSeconds(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match) {
    return null;
  }
  const [, days, h, m, s] = match;
  return Number(days ?? 0) * 86_400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
}

/**
 * `TrainerLogLine.safeParse` without zod, for the hot loop: zod costs ~40 µs a line and a 1 GB log has ~5 M lines.
 * Same result as the schema for any object (checked by a test); null for non-objects.
 */
export function toTrainerLogLine(value: unknown): TrainerLogLine | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return null;
  }
  const raw = value as Record<string, unknown>;
  const currentSteps = num(raw.current_steps);
  const learningRate = num(raw.learning_rate);
  return {
    current_steps: currentSteps,
    step: currentSteps ?? num(raw.step),
    total_steps: num(raw.total_steps),
    loss: num(raw.loss),
    eval_loss: num(raw.eval_loss),
    predict_loss: num(raw.predict_loss),
    lr: num(raw.lr) ?? learningRate,
    learning_rate: learningRate,
    epoch: num(raw.epoch),
    percentage: num(raw.percentage),
    elapsed_time: typeof raw.elapsed_time === 'string' ? durationSeconds(raw.elapsed_time) : null,
    remaining_time: typeof raw.remaining_time === 'string' ? durationSeconds(raw.remaining_time) : null,
    throughput: looseNum(raw.throughput),
    total_tokens: num(raw.total_tokens),
  };
}

function num(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

function looseNum(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : null;
  return n !== null && Number.isFinite(n) ? n : null;
}
