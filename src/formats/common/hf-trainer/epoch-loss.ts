import type { EpochLoss } from '../../../record/schema.ts';

/** Running loss statistics of one run: per epoch, overall, last. Memory is one bucket per epoch. */
export interface LossAggregator {
  /** Adds one logged loss; `epoch` is the fractional progress the trainer logged (null when unknown). */
  add(loss: number, epoch: number | null): void;
  result(): LossSummary;
}

export interface LossSummary {
  /** Last logged loss. */
  final: number | null;
  min: number | null;
  /** Number of loss points seen. */
  points: number;
  perEpoch: EpochLoss[];
  /** Epoch with the lowest mean loss. */
  bestEpoch: number | null;
}

/** Epoch index of a fractional progress value: `ceil(epoch)`, epoch 0 (the very first steps) counts as epoch 1. */
export function epochIndex(epoch: number): number {
  return Math.max(1, Math.ceil(epoch - 1e-9));
}

export function createLossAggregator(): LossAggregator {
  const buckets = new Map<number, { sum: number; count: number; last: number; min: number }>();
  let final: number | null = null;
  let min: number | null = null;
  let points = 0;
  return {
    add(loss, epoch) {
      if (!Number.isFinite(loss)) {
        return;
      }
      final = loss;
      min = min === null ? loss : Math.min(min, loss);
      points++;
      if (epoch === null || !Number.isFinite(epoch) || epoch < 0) {
        return;
      }
      const key = epochIndex(epoch);
      const bucket = buckets.get(key);
      if (bucket) {
        bucket.sum += loss;
        bucket.count++;
        bucket.last = loss;
        bucket.min = Math.min(bucket.min, loss);
      } else {
        buckets.set(key, { sum: loss, count: 1, last: loss, min: loss });
      }
    },
    result() {
      const perEpoch = [...buckets.entries()]
        .sort(([a], [b]) => a - b)
        .map(([epoch, b]) => ({ epoch, mean: b.sum / b.count, last: b.last, min: b.min, steps: b.count }));
      let bestEpoch: number | null = null;
      let bestMean = Number.POSITIVE_INFINITY;
      for (const e of perEpoch) {
        if (e.mean < bestMean) {
          bestMean = e.mean;
          bestEpoch = e.epoch;
        }
      }
      return { final, min, points, perEpoch, bestEpoch };
    },
  };
}
