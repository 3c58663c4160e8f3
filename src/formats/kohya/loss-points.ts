import type { TfScalar } from '../common/tfevents.ts';

/** An epoch scalar (`loss/epoch`, `loss/epoch_average`) and where it sits in the stream of step points. */
export interface EpochPoint {
  step: number;
  wallTime: number;
  value: number;
  /** Step points read before it (over all files): kohya logs it right after the epoch's last step point. */
  cut: number;
  /** Index of the event file it was read from (files in start order). */
  file: number;
}

/** What the event files of a run hold about its loss, in file order, undownsampled (up to `MAX_STEP_POINTS`). */
export interface LossPoints {
  /** `loss/current` points: one per micro-batch, step = kohya's global_step after that micro-batch. */
  steps: number[];
  wallTimes: number[];
  values: number[];
  /**
   * 1 when the point is the first one logged at its step: the micro-batch whose optimizer update made global_step
   * that step. The others at that step accumulate gradients for the next update (gradient accumulation).
   */
  completes: number[];
  /** Index of the first step point of each file, plus the total at the end. */
  fileStarts: number[];
  /** The epoch scalars of one tag (`loss/epoch` when present, else `loss/epoch_average`). */
  epochs: EpochPoint[];
  epochTag: string | null;
  /** Last and lowest `loss/average` (kohya's running mean). */
  averageLast: number | null;
  averageMin: number | null;
  /** `loss/average` points read. */
  averages: number;
  /** Step points read, including those beyond the storage cap. */
  seen: number;
  /** True when more than `MAX_STEP_POINTS` step points existed: the stored ones are a prefix. */
  truncated: boolean;
  firstWallTime: number | null;
  lastWallTime: number | null;
}

/** Bounds memory (about 30 bytes a point): a LoRA run logs far fewer micro-batches than this. */
export const MAX_STEP_POINTS = 1_000_000;

/** Epoch tags in order of preference: sd-scripts ≤ v0.9 and the sd3 branch; forks log both. */
const EPOCH_TAGS = ['loss/epoch', 'loss/epoch_average'] as const;

/**
 * Collects points as they stream in (at most `maxPoints` step points): `nextFile` before each file, `add` in file
 * order, `result` at the end.
 */
export function createLossCollector(maxPoints = MAX_STEP_POINTS): { nextFile(): void; add(point: TfScalar): void; result(): LossPoints } {
  const out: LossPoints = {
    steps: [],
    wallTimes: [],
    values: [],
    completes: [],
    fileStarts: [],
    epochs: [],
    epochTag: null,
    averageLast: null,
    averageMin: null,
    averages: 0,
    seen: 0,
    truncated: false,
    firstWallTime: null,
    lastWallTime: null,
  };
  const epochsByTag = new Map<string, EpochPoint[]>();
  const seenSteps = new Set<number>();
  let file = -1;
  return {
    nextFile() {
      file++;
      out.fileStarts.push(out.steps.length);
    },
    add(point) {
      out.firstWallTime = out.firstWallTime === null ? point.wallTime : Math.min(out.firstWallTime, point.wallTime);
      out.lastWallTime = out.lastWallTime === null ? point.wallTime : Math.max(out.lastWallTime, point.wallTime);
      if (point.tag === 'loss/current') {
        out.seen++;
        if (out.steps.length >= maxPoints) {
          out.truncated = true;
          return;
        }
        out.steps.push(point.step);
        out.wallTimes.push(point.wallTime);
        out.values.push(point.value);
        out.completes.push(seenSteps.has(point.step) || point.step <= 0 ? 0 : 1);
        seenSteps.add(point.step);
      } else if (point.tag === 'loss/average') {
        out.averages++;
        out.averageLast = point.value;
        out.averageMin = out.averageMin === null ? point.value : Math.min(out.averageMin, point.value);
      } else {
        const list = epochsByTag.get(point.tag) ?? [];
        list.push({ step: point.step, wallTime: point.wallTime, value: point.value, cut: out.steps.length, file: Math.max(0, file) });
        epochsByTag.set(point.tag, list);
      }
    },
    result() {
      out.fileStarts.push(out.steps.length);
      const tag = EPOCH_TAGS.find((t) => (epochsByTag.get(t)?.length ?? 0) > 0) ?? null;
      out.epochTag = tag;
      out.epochs = tag === null ? [] : (epochsByTag.get(tag) ?? []);
      return out;
    },
  };
}

/** Tags the collector reads. */
export const LOSS_TAGS: ReadonlySet<string> = new Set(['loss/current', 'loss/average', ...EPOCH_TAGS]);
