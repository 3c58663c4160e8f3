import { z } from 'zod';

/**
 * Bumped whenever a parser change alters records, or the run document derived at parse time (its
 * `rollup_keys`: 1.3.0 added the curve buckets; 1.3.1: kohya final weights whose output name ends in six digits);
 * stored on every record so stale ones can be found and re-parsed.
 */
export const PARSER_VERSION = '1.3.1';

/**
 * The id of the format adapter that read the run (`kohya`, `hf-peft`). The registry in formats/ is the one list of them;
 * a record only checks the shape, so a new format needs no edit here.
 */
export const FormatId = z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'a format id: lower-case words joined by hyphens');
export type FormatId = z.infer<typeof FormatId>;

/** `interrupted`: stopped short of its max steps with no error and no activity within the running window. */
export const RunStatus = z.enum(['completed', 'failed', 'interrupted', 'running', 'unknown', 'parse_error']);
export type RunStatus = z.infer<typeof RunStatus>;

/** Where the loss curve came from, best first per format. */
export const LossSource = z.enum(['log-text', 'tfevents', 'trainer-state', 'trainer-log', 'none']);
export type LossSource = z.infer<typeof LossSource>;

/**
 * Where `created_at` came from, most trustworthy first: a time the run wrote about itself, a file name or folder name
 * the tool stamped at start, a start computed from a log's elapsed time, and last the folder's earliest file mtime
 * (which a copy or restore resets).
 */
export const CreatedAtSource = z.enum([
  'ss_training_started_at',
  'log-timestamp',
  'tfevents-wall-time',
  'tfevents-file-name',
  'folder-name',
  'log-elapsed',
  'mtime',
]);
export type CreatedAtSource = z.infer<typeof CreatedAtSource>;

/**
 * Where `learning_rate` came from: the run's config file, kohya's `ss_*` metadata, the Trainer's saved
 * TrainingArguments (JSON copy or the `training_args.bin` pickle), or the peak rate logged in trainer_state.json
 * log_history or LLaMA-Factory's trainer_log.jsonl (a fallback: the scheduler's highest value, not necessarily the
 * configured one).
 */
export const LearningRateSource = z.enum(['config', 'ss_metadata', 'training_args.json', 'training_args.bin', 'log_history-peak', 'trainer_log-peak']);
export type LearningRateSource = z.infer<typeof LearningRateSource>;

/** A training run, or a folder that only evaluated/predicted with an existing model (LLaMA-Factory `do_predict`). */
export const RunKind = z.enum(['training', 'evaluation']);
export type RunKind = z.infer<typeof RunKind>;

export const SourceRef = z.strictObject({
  kind: z.enum(['fs', 's3']),
  /** Stable name of the configured root (config `sources[].name`). */
  root: z.string(),
  /** Run directory relative to the root, `/`-separated, `''` for the root itself. */
  path: z.string(),
  /** Human/tool-usable location: absolute path or `s3://bucket/prefix/path`. */
  uri: z.string(),
});
export type SourceRef = z.infer<typeof SourceRef>;

/** One epoch of the loss curve. last/min/steps are null when only the epoch's mean was logged and no evidence says which step points belong to it. */
export const EpochLoss = z.strictObject({
  epoch: z.number().int().nonnegative(),
  mean: z.number(),
  last: z.number().nullable(),
  min: z.number().nullable(),
  steps: z.number().int().nonnegative().nullable(),
});
export type EpochLoss = z.infer<typeof EpochLoss>;

export const Artifact = z.strictObject({
  path: z.string(),
  size: z.number().nonnegative(),
  kind: z.enum(['weights', 'checkpoint', 'state', 'log', 'sample', 'other']),
  epoch: z.number().int().nullable(),
  step: z.number().int().nullable(),
});
export type Artifact = z.infer<typeof Artifact>;

export const DatasetDir = z.strictObject({
  path: z.string(),
  repeats: z.number().nullable(),
  images: z.number().nullable(),
});
export type DatasetDir = z.infer<typeof DatasetDir>;

export const TagCount = z.strictObject({ tag: z.string(), count: z.number() });
export type TagCount = z.infer<typeof TagCount>;

export const RunConfig = z.strictObject({
  /** The file the config was read from, relative to the root. */
  file: z.string().nullable(),
  syntax: z.enum(['yaml', 'toml', 'json', 'none']),
  /** Original text with secrets redacted, for `reproduce`; capped in size. */
  text: z.string().nullable(),
  /** Parsed, flattened and redacted values. Stored, not indexed field by field. */
  values: z.record(z.string(), z.unknown()),
});
export type RunConfig = z.infer<typeof RunConfig>;

const isoDate = z.iso.datetime({ offset: true }).nullable();

/** Where a run's last activity time came from: the logs' own timestamps first, file mtimes last. */
export const ActivitySource = z.enum(['tfevents', 'log-text', 'running-log', 'safetensors-metadata', 'mtime']);
export type ActivitySource = z.infer<typeof ActivitySource>;

/**
 * The durable evidence a status is derived from. Stored so that every sync can re-derive the time-dependent
 * part (running → interrupted) with its own clock, without reading the run's files again.
 */
export const StatusInputs = z.strictObject({
  /** Steps the run was set up for (max_steps, total_steps, ss_max_train_steps), when known. */
  max_steps: z.number().int().nonnegative().nullable(),
  /** Last step the run's own files show. */
  last_step: z.number().int().nonnegative().nullable(),
  /** The artifact written only at the end of training (final weights, root adapter), run-relative; null when absent. */
  final_artifact: z.string().nullable(),
  /** Intermediate checkpoints or logged progress exist: the run got going. */
  progressed: z.boolean(),
  /** An explicit end marker in the files: a summary or result file (completed) or an error/traceback (failed). */
  terminal: z.enum(['completed', 'failed']).nullable(),
  terminal_evidence: z.string().nullable(),
  /** Why a stale run without end marker is not called interrupted (e.g. early stopping may have ended it). */
  caveat: z.string().nullable(),
  last_activity_at: isoDate,
  last_activity_source: ActivitySource.nullable(),
  /** Root-relative log files outside the run folder whose writes are this run's activity (kohya `logging_dir`). */
  external_logs: z.array(z.string()),
});
export type StatusInputs = z.infer<typeof StatusInputs>;

/** The canonical record: one per run, produced by every adapter, strict. */
export const RunRecord = z.strictObject({
  run_id: z.uuid(),
  /** How run_id was obtained: an explicit UUID the run carries, content evidence, or its location. */
  run_id_basis: z.enum(['explicit', 'content', 'location']),
  source: SourceRef,
  format: FormatId,
  run_kind: RunKind,
  status: RunStatus,
  status_evidence: z.string(),
  /** Evidence the status was derived from; null for parse errors. */
  status_inputs: StatusInputs.nullable(),
  parse_error: z.strictObject({ file: z.string(), message: z.string() }).nullable(),

  base_model: z.string().nullable(),
  /** Short family (`sd15`, `sdxl`, `flux`, `llama`, `qwen`…) for filters like `base:sd15`. */
  base_model_family: z.string().nullable(),
  lora_rank: z.number().nullable(),
  lora_alpha: z.number().nullable(),
  learning_rate: z.number().nullable(),
  learning_rate_source: LearningRateSource.nullable(),
  learning_rates: z.record(z.string(), z.number()),
  batch_size: z.number().nullable(),
  epochs: z.number().nullable(),
  total_steps: z.number().nullable(),
  optimizer: z.string().nullable(),
  resolution: z.string().nullable(),
  network_module: z.string().nullable(),
  target_modules: z.array(z.string()),
  data_dir: z.string().nullable(),
  dataset_dirs: z.array(DatasetDir),
  tag_summary: z.array(TagCount),
  prompt_example: z.string().nullable(),
  prompts: z.array(z.string()),
  tags: z.array(z.string()),
  notes: z.string().nullable(),
  output_dir: z.string().nullable(),
  output_name: z.string().nullable(),

  started_at: isoDate,
  finished_at: isoDate,
  /** When the run came into being: started_at, else the earliest evidence (file mtimes). */
  created_at: isoDate,
  /** Where created_at came from; null when created_at is null. */
  created_at_source: CreatedAtSource.nullable(),

  loss_final: z.number().nullable(),
  loss_min: z.number().nullable(),
  best_epoch: z.number().int().nullable(),
  best_checkpoint: z.string().nullable(),
  loss_per_epoch: z.array(EpochLoss),
  loss_source: LossSource,
  eval_metrics: z.record(z.string(), z.number()),
  artifacts: z.array(Artifact),

  config: RunConfig,
  config_hash: z.string().nullable(),
  fingerprint: z.string(),
  parse_warnings: z.array(z.string()),
  parser_version: z.string(),
});
export type RunRecord = z.infer<typeof RunRecord>;
