import { parseTolerantJson } from '../../text/tolerant-json.ts';
import { createLossAggregator, type LossAggregator, type LossSummary } from '../common/hf-trainer/epoch-loss.ts';
import { toTrainerLogLine, type TrainerLogLine } from './schema.ts';

/** What a `trainer_log.jsonl` says about its (last) run. */
export interface TrainerLogSummary {
  /** Non-empty lines read. */
  lines: number;
  /** Lines that are not a JSON object with a step (a torn last line, garbage). */
  badLines: number;
  /** Lines at a step already logged (duplicated or interleaved writers, resumed runs) that were ignored. */
  skippedLines: number;
  /** Runs found in the file: a re-run without overwrite_output_dir appends to it. Only the last is summarised. */
  segments: number;
  /** First line of the file (capped), identity evidence. */
  firstLine: string | null;
  totalSteps: number | null;
  lastStep: number | null;
  lastPercentage: number | null;
  /** `elapsed_time` of the newest line, seconds. */
  elapsedSeconds: number | null;
  trainingLines: number;
  evalLines: number;
  /** After training lines, a line without any loss: the log `train()` writes when it returns, i.e. training finished. */
  endLine: boolean;
  loss: LossSummary;
  lastEvalLoss: number | null;
  lastEpoch: number | null;
  /** Tokens/s of the newest line that has it. */
  throughput: number | null;
  /** Highest `lr` of the training lines: the scheduler's peak, not necessarily the configured rate. */
  peakLearningRate: number | null;
  /** The last two logged rates still rise: the log ends in warmup and the peak was never reached. */
  learningRateRising: boolean;
  nonFinite: number;
}

export interface TrainerLogReader {
  push(line: string): void;
  result(): TrainerLogSummary;
}

/** Identity uses the first line; a pathological one must not bloat the record. */
const MAX_FIRST_LINE = 2000;

/** Streams `trainer_log.jsonl` lines through the reader; memory is constant in the number of lines. Never throws for bad lines. */
export async function parseTrainerLogLines(lines: Iterable<string> | AsyncIterable<string>): Promise<TrainerLogSummary> {
  const reader = createTrainerLogReader();
  for await (const line of lines) {
    reader.push(line);
  }
  return reader.result();
}

/**
 * Incremental reader. A new segment starts when `total_steps` changes or the step falls back to the segment's
 * first logged step (a restart from scratch); smaller back-steps are interleaved writers or a resume from a
 * checkpoint and their repeated steps are skipped. An eval/predict-only segment appended after a training one
 * does not hide the training.
 */
export function createTrainerLogReader(): TrainerLogReader {
  let lines = 0;
  let badLines = 0;
  let skippedLines = 0;
  let segments = 0;
  let nonFinite = 0;
  let firstLine: string | null = null;
  let current: Segment | null = null;
  let lastTraining: Segment | null = null;
  return {
    push(raw) {
      const text = raw.trim();
      if (text === '') {
        return;
      }
      lines++;
      firstLine ??= text.slice(0, MAX_FIRST_LINE);
      const json = parseTolerantJson(text);
      const line = json.ok ? toTrainerLogLine(json.value) : null;
      if (!json.ok || line === null || line.step === null) {
        badLines++;
        return;
      }
      nonFinite += json.nonFinite;
      const step = line.step;
      if (current === null || startsNewSegment(current, step, line.total_steps)) {
        if (current !== null && current.trainingLines > 0) {
          lastTraining = current;
        }
        current = newSegment(step, line.total_steps);
        segments++;
      }
      if (!addLine(current, step, line)) {
        skippedLines++;
      }
    },
    result() {
      const kept = current === null || current.trainingLines > 0 || lastTraining === null ? current : lastTraining;
      return {
        lines,
        badLines,
        skippedLines,
        segments,
        firstLine,
        totalSteps: kept?.totalSteps ?? null,
        lastStep: kept?.lastStep ?? null,
        lastPercentage: kept?.lastPercentage ?? null,
        elapsedSeconds: kept?.elapsedSeconds ?? null,
        trainingLines: kept?.trainingLines ?? 0,
        evalLines: kept?.evalLines ?? 0,
        endLine: kept?.endLine ?? false,
        loss: (kept?.loss ?? createLossAggregator()).result(),
        lastEvalLoss: kept?.lastEvalLoss ?? null,
        lastEpoch: kept?.lastEpoch ?? null,
        throughput: kept?.throughput ?? null,
        peakLearningRate: kept?.peakLearningRate ?? null,
        learningRateRising: kept !== null && kept.lastLr !== null && kept.prevLr !== null && kept.lastLr > kept.prevLr,
        nonFinite,
      };
    },
  };
}

// --- internal ---

interface Segment {
  totalSteps: number | null;
  firstStep: number;
  /** Highest step with an accepted training line. */
  maxTrainStep: number;
  maxEvalStep: number;
  lastStep: number;
  lastPercentage: number | null;
  elapsedSeconds: number | null;
  trainingLines: number;
  evalLines: number;
  endLine: boolean;
  loss: LossAggregator;
  lastEvalLoss: number | null;
  lastEpoch: number | null;
  throughput: number | null;
  peakLearningRate: number | null;
  prevLr: number | null;
  lastLr: number | null;
}

function newSegment(step: number, totalSteps: number | null): Segment {
  return {
    totalSteps,
    firstStep: step,
    maxTrainStep: Number.NEGATIVE_INFINITY,
    maxEvalStep: Number.NEGATIVE_INFINITY,
    lastStep: step,
    lastPercentage: null,
    elapsedSeconds: null,
    trainingLines: 0,
    evalLines: 0,
    endLine: false,
    loss: createLossAggregator(),
    lastEvalLoss: null,
    lastEpoch: null,
    throughput: null,
    peakLearningRate: null,
    prevLr: null,
    lastLr: null,
  };
}

function startsNewSegment(segment: Segment, step: number, totalSteps: number | null): boolean {
  if (totalSteps !== null && segment.totalSteps !== null && totalSteps !== segment.totalSteps) {
    return true;
  }
  return step <= segment.firstStep && step < segment.lastStep;
}

/** Folds one line into the segment; false when it repeats a step already logged. */
function addLine(segment: Segment, step: number, line: TrainerLogLine): boolean {
  let accepted = true;
  if (line.loss !== null) {
    accepted = step > segment.maxTrainStep;
    if (accepted) {
      segment.maxTrainStep = step;
      segment.loss.add(line.loss, line.epoch);
      segment.trainingLines++;
      segment.endLine = false;
      if (line.lr !== null && line.lr > 0) {
        segment.peakLearningRate = Math.max(segment.peakLearningRate ?? 0, line.lr);
        segment.prevLr = segment.lastLr;
        segment.lastLr = line.lr;
      }
    }
  } else if (line.eval_loss !== null || line.predict_loss !== null) {
    accepted = step > segment.maxEvalStep;
    if (accepted) {
      segment.maxEvalStep = step;
      segment.lastEvalLoss = line.eval_loss ?? segment.lastEvalLoss;
      segment.evalLines++;
    }
  } else if (segment.trainingLines > 0 && step >= segment.maxTrainStep) {
    segment.endLine = true;
  }
  if (step >= segment.lastStep) {
    segment.lastStep = step;
    segment.lastPercentage = line.percentage ?? segment.lastPercentage;
    segment.elapsedSeconds = line.elapsed_time ?? segment.elapsedSeconds;
    segment.lastEpoch = line.epoch ?? segment.lastEpoch;
    segment.throughput = line.throughput ?? segment.throughput;
    segment.totalSteps ??= line.total_steps;
  }
  return accepted;
}
