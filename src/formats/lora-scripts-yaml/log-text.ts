import type { EpochLoss } from '../../record/schema.ts';

export interface TextLossResult {
  perEpoch: EpochLoss[];
  lossFinal: number | null;
  lossMin: number | null;
  points: number;
  lines: number;
  /** Last non-empty line mentioning failure (Traceback, Error, out of memory), if any. */
  failure: string | null;
  /** A line saying training finished. */
  finished: boolean;
  lastStep: number | null;
  /** First and last timestamps seen in the log (`2025-03-02 14:03:11`, ISO 8601); zone-less times are taken as UTC. */
  firstTime: string | null;
  lastTime: string | null;
  /** The last timestamp carried no zone (local time of the trainer, read as UTC). */
  lastTimeZoneless: boolean;
}

const LOSS = /\b(?:train[_ ]?)?loss\b["']?\s*[:=]?\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|nan|inf)/i;
const EPOCH = /\bepoch\b["']?\s*[:=]?\s*(\d+(?:\.\d+)?)(?:\s*\/\s*\d+)?/i;
const STEP = /\b(?:global_)?step\b["']?\s*[:=]?\s*(\d+)/i;
const FAILURE = /Traceback \(most recent call last\)|\bError\b:|CUDA out of memory|Killed|\bfailed\b/i;
const TIMESTAMP = /\b(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?/;
const FINISHED = /training (?:complete|completed|finished|done)|finished training|训练完成|saved final/i;

/**
 * Aggregates loss per epoch from free-form training log lines ("epoch 3 step 120 loss 0.0421",
 * "{'loss': 0.05, 'epoch': 2.0}", "Epoch 2/10 ... loss=0.06"), streaming: memory is one entry per epoch.
 * Lines without an epoch belong to the last epoch announced; fractional epochs (HF style) round up.
 */
export async function aggregateTextLoss(lines: AsyncIterable<string>): Promise<TextLossResult> {
  const aggregator = createTextLossAggregator();
  for await (const line of lines) {
    aggregator.add(line);
  }
  return aggregator.result();
}

/** The same over lines already in memory (a small log read whole): no promise per line. */
export function aggregateTextLossOf(text: string): TextLossResult {
  const aggregator = createTextLossAggregator();
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) {
      end = text.length;
    }
    // Same lines as the streaming splitter: `\r\n` endings lose the `\r`, long lines are cut.
    const line = text.slice(start, Math.min(end, start + MAX_LINE));
    aggregator.add(line.endsWith('\r') ? line.slice(0, -1) : line);
    start = end + 1;
  }
  return aggregator.result();
}

/** Cap on one log line, as in the streaming reader. */
const MAX_LINE = 64 * 1024;

function createTextLossAggregator(): { add(line: string): void; result(): TextLossResult } {
  const epochs = new Map<number, { sum: number; n: number; last: number; min: number }>();
  let current = 0;
  let lossFinal: number | null = null;
  let lossMin: number | null = null;
  let points = 0;
  let count = 0;
  let failure: string | null = null;
  let finished = false;
  let lastStep: number | null = null;
  let firstTime: string | null = null;
  let lastTime: string | null = null;
  let lastTimeZoneless = false;
  return {
    add(line) {
      count += 1;
      const time = parseTimestamp(line);
      if (time) {
        firstTime ??= time.iso;
        lastTime = time.iso;
        lastTimeZoneless = time.zoneless;
      }
      const epochMatch = EPOCH.exec(line);
      if (epochMatch) {
        const value = Number(epochMatch[1]);
        current = Number.isInteger(value) ? value : Math.ceil(value);
      }
      const stepMatch = STEP.exec(line);
      if (stepMatch) {
        lastStep = Number(stepMatch[1]);
      }
      if (FAILURE.test(line)) {
        failure = line.trim().slice(0, 300);
      }
      if (FINISHED.test(line)) {
        finished = true;
      }
      const lossMatch = LOSS.exec(line);
      if (!lossMatch) {
        return;
      }
      const loss = Number(lossMatch[1]);
      if (!Number.isFinite(loss)) {
        return;
      }
      points += 1;
      lossFinal = loss;
      lossMin = lossMin === null ? loss : Math.min(lossMin, loss);
      const bucket = epochs.get(current) ?? { sum: 0, n: 0, last: loss, min: loss };
      bucket.sum += loss;
      bucket.n += 1;
      bucket.last = loss;
      bucket.min = Math.min(bucket.min, loss);
      epochs.set(current, bucket);
    },
    result() {
      const perEpoch = [...epochs.entries()]
        .sort(([a], [b]) => a - b)
        .map(([epoch, b]) => ({ epoch, mean: round(b.sum / b.n), last: b.last, min: b.min, steps: b.n }));
      return { perEpoch, lossFinal, lossMin, points, lines: count, failure, finished, lastStep, firstTime, lastTime, lastTimeZoneless };
    },
  };
}

function parseTimestamp(line: string): { iso: string; zoneless: boolean } | null {
  const m = TIMESTAMP.exec(line);
  if (!m) {
    return null;
  }
  const date = new Date(`${m[1]}T${m[2]}${m[3] ?? ''}${m[4] ?? 'Z'}`);
  return Number.isNaN(date.getTime()) ? null : { iso: date.toISOString(), zoneless: m[4] === undefined };
}

function round(value: number): number {
  return Math.round(value * 1e8) / 1e8;
}
