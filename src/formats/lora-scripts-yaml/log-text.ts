import type { EpochLoss } from '../../record/schema.ts';
import { lineAt, lineSpans, type LineSpans } from '../../text/lines.ts';

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
/** EPOCH and LOSS over a whole text: `[^\S\n]` for `\s`, so a match never leaves its line (inside a line the two are the same). */
const EPOCH_IN_TEXT = inText(EPOCH);
const LOSS_IN_TEXT = inText(LOSS);

/**
 * Aggregates loss per epoch from free-form training log lines ("epoch 3 step 120 loss 0.0421",
 * "{'loss': 0.05, 'epoch': 2.0}", "Epoch 2/10 ... loss=0.06"), streaming: memory is one entry per epoch.
 * Lines without an epoch belong to the last epoch announced; fractional epochs (HF style) round up.
 */
export async function aggregateTextLoss(lines: AsyncIterable<string> | Iterable<string>): Promise<TextLossResult> {
  const aggregator = createTextLossAggregator();
  for await (const line of lines) {
    aggregator.add(line);
  }
  return aggregator.result();
}

/**
 * The same over lines already in memory (a small log read whole): no promise per line, and only the
 * epoch and loss patterns run on every line. The patterns whose answer is one line (the first and last
 * timestamp, the last step, the last failure, any "finished") are first tried on the whole text once,
 * then looked for line by line only from the end they need; the answers are the line-by-line ones.
 */
export function aggregateTextLossOf(text: string): TextLossResult {
  const lines = lineSpans(text);
  if (lines.long) {
    const aggregator = createTextLossAggregator();
    forEachLine(text, lines, (line) => aggregator.add(line));
    return aggregator.result();
  }
  const curve = createCurveAggregator();
  const epochs = firstMatchPerLine(EPOCH_IN_TEXT, text, lines);
  const losses = firstMatchPerLine(LOSS_IN_TEXT, text, lines);
  for (let i = 0; i < lines.starts.length; i++) {
    curve.take(epochs[i], losses[i]);
  }
  const first = TIMESTAMP.test(text) ? findLine(text, lines, 1, parseTimestamp) : null;
  const last = first ? findLine(text, lines, -1, parseTimestamp) : null;
  const step = STEP.test(text) ? findLine(text, lines, -1, (line) => STEP.exec(line)?.[1] ?? null) : null;
  const failure = FAILURE.test(text) ? findLine(text, lines, -1, (line) => (FAILURE.test(line) ? line.trim().slice(0, 300) : null)) : null;
  return {
    ...curve.result(),
    lines: lines.starts.length,
    failure,
    finished: FINISHED.test(text),
    lastStep: step === null ? null : Number(step),
    firstTime: first?.iso ?? null,
    lastTime: last?.iso ?? null,
    lastTimeZoneless: last?.zoneless ?? false,
  };
}

function createTextLossAggregator(): { add(line: string): void; result(): TextLossResult } {
  const curve = createCurveAggregator();
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
      curve.add(line);
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
    },
    result() {
      return { ...curve.result(), lines: count, failure, finished, lastStep, firstTime, lastTime, lastTimeZoneless };
    },
  };
}

type CurveResult = Pick<TextLossResult, 'perEpoch' | 'lossFinal' | 'lossMin' | 'points'>;

/** Loss per epoch: a line's epoch applies to its loss and to the losses of the lines after it. */
function createCurveAggregator(): { add(line: string): void; take(epoch: string | undefined, loss: string | undefined): void; result(): CurveResult } {
  const epochs = new Map<number, { sum: number; n: number; last: number; min: number }>();
  let current = 0;
  let lossFinal: number | null = null;
  let lossMin: number | null = null;
  let points = 0;
  /** A line's epoch and loss as matched (or undefined). */
  const take = (epochText: string | undefined, lossText: string | undefined): void => {
    if (epochText !== undefined) {
      const value = Number(epochText);
      current = Number.isInteger(value) ? value : Math.ceil(value);
    }
    if (lossText === undefined) {
      return;
    }
    const loss = Number(lossText);
    if (!Number.isFinite(loss)) {
      return;
    }
    points += 1;
    lossFinal = loss;
    lossMin = lossMin === null ? loss : Math.min(lossMin, loss);
    const bucket = epochs.get(current);
    if (bucket) {
      bucket.sum += loss;
      bucket.n += 1;
      bucket.last = loss;
      bucket.min = Math.min(bucket.min, loss);
    } else {
      epochs.set(current, { sum: loss, n: 1, last: loss, min: loss });
    }
  };
  return {
    add: (line) => take(EPOCH.exec(line)?.[1], LOSS.exec(line)?.[1]),
    take,
    result() {
      const perEpoch = [...epochs.entries()]
        .sort(([a], [b]) => a - b)
        .map(([epoch, b]) => ({ epoch, mean: round(b.sum / b.n), last: b.last, min: b.min, steps: b.n }));
      return { perEpoch, lossFinal, lossMin, points };
    },
  };
}

function forEachLine(text: string, lines: LineSpans, visit: (line: string) => void): void {
  for (let i = 0; i < lines.starts.length; i++) {
    visit(lineAt(text, lines, i));
  }
}

function inText(pattern: RegExp): RegExp {
  return new RegExp(pattern.source.replaceAll('\\s', '[^\\S\\n]'), `${pattern.flags}g`);
}

/** For each line, the first capture of the first match of `pattern` (global, see inText) in it. */
function firstMatchPerLine(pattern: RegExp, text: string, lines: LineSpans): Array<string | undefined> {
  const out = new Array<string | undefined>(lines.starts.length);
  let line = 0;
  for (const match of text.matchAll(pattern)) {
    while (line < lines.ends.length && (lines.ends[line] as number) <= match.index) {
      line += 1;
    }
    out[line] ??= match[1];
  }
  return out;
}

/** The first answer `read` gives for a line, from the first line (direction 1) or the last (-1). */
function findLine<T>(text: string, lines: LineSpans, direction: 1 | -1, read: (line: string) => T | null): T | null {
  const n = lines.starts.length;
  for (let k = 0; k < n; k++) {
    const found = read(lineAt(text, lines, direction === 1 ? k : n - 1 - k));
    if (found !== null) {
      return found;
    }
  }
  return null;
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
