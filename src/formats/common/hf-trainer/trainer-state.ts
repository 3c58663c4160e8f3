import { parseTolerantJson } from '../../../text/tolerant-json.ts';
import { createLossAggregator, epochIndex, type LossSummary } from './epoch-loss.ts';
import { TrainerState } from './schema.ts';
import type { ParseResult } from '../../kit/result.ts';

/** A pure file parser's answer: the value, or why the file could not be read. */

/** What a run needs from `trainer_state.json`. */
export interface TrainerStateInfo {
  globalStep: number | null;
  maxSteps: number | null;
  numTrainEpochs: number | null;
  epoch: number | null;
  trainBatchSize: number | null;
  bestMetric: number | null;
  /** `best_model_checkpoint` as written (a path on the training machine). */
  bestModelCheckpoint: string | null;
  /** Its `checkpoint-N` folder name. */
  bestCheckpointName: string | null;
  /** `log_history` holds the summary `train()` appends only on normal completion (`train_runtime`). */
  hasSummary: boolean;
  /** `EarlyStoppingCallback` is among `stateful_callbacks`. */
  earlyStopping: boolean;
  loss: LossSummary;
  /** Epoch of the best checkpoint when known, else the epoch with the lowest mean training loss. */
  bestEpoch: number | null;
  /** Last value of every eval_/predict_/test_ key, `best_metric`, and the numbers of the final summary (`train_loss`…). */
  evalMetrics: Record<string, number>;
  /** Logged step → epoch index, to date checkpoints. */
  stepEpochs: Map<number, number>;
  entries: number;
  /** The first three log entries as JSON: content evidence that differs between repeats of one config. */
  identitySeed: string;
  /** NaN/Infinity tokens replaced by null. */
  nonFinite: number;
  /** Highest `learning_rate` logged: the scheduler's peak, which equals the configured rate only for some schedules. */
  peakLearningRate: number | null;
  /** The last two logged rates still rise: the log ends in warmup and the peak was never reached. */
  learningRateRising: boolean;
  /** Training log entries (with a `loss`) plus the summary: 0 for a folder that only evaluated or predicted. */
  trainingEntries: number;
}

/** ES maps every metric key to a field; TRL/GRPO logs hundreds of keys, so keep a sane number. */
export const MAX_EVAL_METRICS = 200;

const METRIC_KEY = /^(eval|predict|test)_/;
const SUMMARY_SKIP = new Set(['step', 'epoch']);

/** Parses `trainer_state.json` text (NaN/Infinity tolerated). Never throws. */
export function parseTrainerState(text: string): ParseResult<TrainerStateInfo> {
  const json = parseTolerantJson(text);
  if (!json.ok) {
    return { ok: false, message: json.message };
  }
  const parsed = TrainerState.safeParse(json.value);
  if (!parsed.success) {
    return { ok: false, message: 'not a trainer_state object' };
  }
  const state = parsed.data;
  const history = state.log_history;
  const loss = createLossAggregator();
  const evalMetrics: Record<string, number> = {};
  const stepEpochs = new Map<number, number>();
  let hasSummary = false;
  let peakLearningRate: number | null = null;
  const rates: number[] = [];
  let trainingEntries = 0;
  for (const entry of history) {
    if (entry.learning_rate !== undefined && entry.learning_rate > 0) {
      peakLearningRate = Math.max(peakLearningRate ?? 0, entry.learning_rate);
      rates.push(entry.learning_rate);
      if (rates.length > 2) {
        rates.shift();
      }
    }
    if (entry.loss !== undefined || entry.train_runtime !== undefined) {
      trainingEntries += 1;
    }
    const isSummary = entry.train_runtime !== undefined;
    if (entry.step !== undefined && entry.epoch !== undefined) {
      stepEpochs.set(entry.step, epochIndex(entry.epoch));
    }
    if (isSummary) {
      hasSummary = true;
      for (const [key, value] of Object.entries(entry)) {
        if (!SUMMARY_SKIP.has(key)) {
          setMetric(evalMetrics, key, value);
        }
      }
      continue;
    }
    if (entry.loss !== undefined) {
      loss.add(entry.loss, entry.epoch ?? null);
    }
    for (const [key, value] of Object.entries(entry)) {
      if (METRIC_KEY.test(key)) {
        setMetric(evalMetrics, key, value);
      }
    }
  }
  if (state.best_metric !== null) {
    setMetric(evalMetrics, 'best_metric', state.best_metric);
  }
  const lossSummary = loss.result();
  const bestCheckpointName = checkpointName(state.best_model_checkpoint);
  const bestStep = state.best_global_step ?? stepOf(bestCheckpointName);
  return {
    ok: true,
    value: {
      globalStep: state.global_step,
      maxSteps: state.max_steps,
      numTrainEpochs: state.num_train_epochs,
      epoch: state.epoch,
      trainBatchSize: state.train_batch_size,
      bestMetric: state.best_metric,
      bestModelCheckpoint: state.best_model_checkpoint,
      bestCheckpointName,
      hasSummary,
      earlyStopping: state.stateful_callbacks !== null && Object.hasOwn(state.stateful_callbacks, 'EarlyStoppingCallback'),
      loss: lossSummary,
      bestEpoch: (bestStep !== null ? stepEpochs.get(bestStep) : undefined) ?? lossSummary.bestEpoch,
      evalMetrics,
      stepEpochs,
      entries: history.length,
      identitySeed: JSON.stringify(history.slice(0, 3)),
      nonFinite: json.nonFinite,
      peakLearningRate,
      learningRateRising: rates.length === 2 && (rates[1] as number) > (rates[0] as number),
      trainingEntries,
    },
  };
}

/** `checkpoint-N` from a checkpoint path written on any OS (`./results/checkpoint-2800`, `C:\…\checkpoint-3\`). */
export function checkpointName(path: string | null): string | null {
  if (path === null) {
    return null;
  }
  const match = /(?:^|[\\/])(checkpoint-\d+)[\\/]*$/.exec(path.trim());
  return match?.[1] ?? null;
}

// --- internal ---

function stepOf(name: string | null): number | null {
  return name === null ? null : Number(name.slice('checkpoint-'.length));
}

function setMetric(metrics: Record<string, number>, key: string, value: number): void {
  if (Object.hasOwn(metrics, key) || Object.keys(metrics).length < MAX_EVAL_METRICS) {
    metrics[key] = value;
  }
}
