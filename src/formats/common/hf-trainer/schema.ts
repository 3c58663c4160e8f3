import { z } from 'zod';

/** A finite number or null: missing keys, strings and nulls (NaN after tolerant parsing) all become null. */
export const NumOrNull = z.number().nullable().catch(null);
export type NumOrNull = z.infer<typeof NumOrNull>;

/** A string or null, whatever else the file holds. */
export const StrOrNull = z.string().nullable().catch(null);
export type StrOrNull = z.infer<typeof StrOrNull>;

/** One `log_history` entry reduced to its numeric values (TRL adds many; strings are never read). */
export const LogEntry = z.record(z.string(), z.unknown()).transform((raw) => {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === 'number' && Number.isFinite(value)) {
      out[key] = value;
    }
  }
  return out;
});
export type LogEntry = z.infer<typeof LogEntry>;

/** `trainer_state.json` (transformers `TrainerState.save_to_json`): only the fields we read, every one optional. */
export const TrainerState = z.object({
  global_step: NumOrNull,
  max_steps: NumOrNull,
  num_train_epochs: NumOrNull,
  epoch: NumOrNull,
  train_batch_size: NumOrNull,
  best_metric: NumOrNull,
  best_model_checkpoint: StrOrNull,
  best_global_step: NumOrNull,
  log_history: z
    .array(z.unknown())
    .catch([])
    .transform((items) =>
      items.flatMap((item) => {
        const entry = LogEntry.safeParse(item);
        return entry.success ? [entry.data] : [];
      }),
    ),
  stateful_callbacks: z.record(z.string(), z.unknown()).nullable().catch(null),
});
export type TrainerState = z.infer<typeof TrainerState>;

/** `adapter_config.json` (PEFT `PeftConfig.save_pretrained`). `target_modules` may be a list, a regex string or null. */
export const AdapterConfig = z.object({
  base_model_name_or_path: StrOrNull,
  peft_type: StrOrNull,
  task_type: StrOrNull,
  r: NumOrNull,
  lora_alpha: NumOrNull,
  target_modules: z
    .union([z.array(z.unknown()).transform((items) => items.filter((item): item is string => typeof item === 'string')), z.string().transform((s) => [s])])
    .nullable()
    .catch(null)
    .transform((v) => v ?? []),
});
export type AdapterConfig = z.infer<typeof AdapterConfig>;

/** `train_results.json`, `eval_results.json`, `predict_results.json`, `all_results.json`: flat metric maps, numbers kept. */
export const ResultsJson = z.record(z.string(), z.unknown()).transform((raw) => {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === 'number' && Number.isFinite(value)) {
      out[key] = value;
    }
  }
  return out;
});
export type ResultsJson = z.infer<typeof ResultsJson>;

/** `training_args.json` some scripts write next to the run (`TrainingArguments.to_json_string`): a flat object. */
export const TrainingArgsJson = z.record(z.string(), z.unknown());
export type TrainingArgsJson = z.infer<typeof TrainingArgsJson>;
