import type { LearningRateSource, RunKind } from '../../../record/schema.ts';
import type { DirListing } from '../../types.ts';
import { checkpointSteps } from './listing.ts';
import type { TrainerStateInfo } from './trainer-state.ts';

/** Record fields read from a TrainingArguments dump (JSON copy or `training_args.bin`). */
export interface ArgsFacts {
  batch_size: number | null;
  epochs: number | null;
  /** `max_steps` when set; the Trainer's default -1 means "from the epochs", not a step count. */
  total_steps: number | null;
  optimizer: string | null;
  output_dir: string | null;
}

export function argsFacts(args: Record<string, unknown>): ArgsFacts {
  const maxSteps = num(args.max_steps);
  return {
    batch_size: num(args.per_device_train_batch_size),
    epochs: num(args.num_train_epochs),
    total_steps: maxSteps !== null && maxSteps > 0 ? maxSteps : null,
    optimizer: str(args.optim),
    output_dir: str(args.output_dir),
  };
}

/** A logged peak learning rate to fall back on, and the file it was read from. */
export interface PeakRate {
  value: number | null;
  /** The log ends while the rate still rises (warmup): its peak is not the configured rate, so it is not used. */
  rising: boolean;
  file: string;
  source: Extract<LearningRateSource, 'log_history-peak' | 'trainer_log-peak'>;
}

/**
 * The first configured learning rate among `candidates` (best source first), else the first logged peak, which is
 * what the scheduler reached: with warmup and linear/cosine decay that is about the configured rate, with other
 * schedules it may not be, so the fallback is flagged with a warning.
 */
export function pickLearningRate(
  candidates: Array<[unknown, LearningRateSource]>,
  peaks: PeakRate[],
  warn: (message: string) => void,
): { learning_rate: number | null; learning_rate_source: LearningRateSource | null } {
  for (const [value, source] of candidates) {
    const rate = num(value);
    if (rate !== null && rate > 0) {
      return { learning_rate: rate, learning_rate_source: source };
    }
  }
  const peak = peaks.find((p) => p.value !== null);
  if (peak?.rising) {
    warn(`learning_rate: not known; the learning_rate logged in ${peak.file} still rises where the log ends (warmup), so its peak is not the configured rate`);
    return { learning_rate: null, learning_rate_source: null };
  }
  if (peak?.value !== null && peak?.value !== undefined) {
    warn(
      `learning_rate: no saved training arguments; used the peak learning_rate logged in ${peak.file} (the scheduled peak, not necessarily the configured rate)`,
    );
    return { learning_rate: peak.value, learning_rate_source: peak.source };
  }
  return { learning_rate: null, learning_rate_source: null };
}

/** The log_history peak of a trainer_state.json, as a fallback rate. */
export function statePeak(state: { file: string; info: TrainerStateInfo } | null): PeakRate[] {
  return state ? [{ value: state.info.peakLearningRate, rising: state.info.learningRateRising, file: state.file, source: 'log_history-peak' }] : [];
}

export interface RunKindEvidence {
  /** Reasons to call it training: logged training steps, train_* results, checkpoints, `do_train: true`… */
  training: string[];
  /** Reasons to call it evaluation: `do_predict`, predict_/eval_ results, generated predictions… */
  evaluation: string[];
}

/** Evaluation only when something says so and nothing shows training (a Trainer run with `do_train` unset still trains). */
export function decideRunKind(evidence: RunKindEvidence): { kind: RunKind; evidence: string | null } {
  if (evidence.training.length === 0 && evidence.evaluation.length > 0) {
    return { kind: 'evaluation', evidence: evidence.evaluation.join(', ') };
  }
  return { kind: 'training', evidence: null };
}

/** Evidence both HF adapters share: results files, trainer_state, checkpoints, weights, the saved arguments. */
export function trainerKindEvidence(input: {
  listing: DirListing;
  results: Record<string, number>;
  state: TrainerStateInfo | null;
  args: Record<string, unknown> | null;
}): RunKindEvidence {
  const training: string[] = [];
  const evaluation: string[] = [];
  const { results, state, args, listing } = input;
  const resultKeys = Object.keys(results);
  if (resultKeys.some((k) => k.startsWith('train_'))) {
    training.push('train_* results');
  } else if (resultKeys.some((k) => /^(eval|predict|test)_/.test(k))) {
    const prefixes = new Set(resultKeys.filter((k) => /^(eval|predict|test)_/.test(k)).map((k) => k.slice(0, k.indexOf('_'))));
    evaluation.push(`only ${[...prefixes].join('/')}_* results`);
  }
  if (state && state.trainingEntries > 0) {
    training.push('trainer_state.json logs training steps');
  }
  if (checkpointSteps(listing).length > 0) {
    training.push('checkpoint folders');
  }
  if (listing.names.some((n) => /^adapter_model\.(safetensors|bin)$/.test(n))) {
    training.push('adapter weights');
  }
  // `do_eval` is no evidence: TrainingArguments turns it on for any eval_strategy, training runs included.
  if (args?.do_train === true) {
    training.push('do_train: true');
  } else if (args?.do_predict === true) {
    evaluation.push('do_predict: true');
  }
  if (listing.names.includes('generated_predictions.jsonl')) {
    evaluation.push('generated_predictions.jsonl');
  }
  return { training, evaluation };
}

// --- internal ---

function num(value: unknown): number | null {
  if (typeof value === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(value)) {
    return Number(value);
  }
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
