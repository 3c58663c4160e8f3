import { BucketAccumulator, type RollupDoc, type RollupRun } from './compute.ts';
import { ExactSum } from './exact-sum.ts';
import { groupFields, isConfigKey, isCurveKey, isFiniteLoss } from './keys.ts';

/** What a bucket's accumulator writes: one document (count buckets) or one per epoch (curve buckets). */
export interface RollupAccumulator {
  readonly key: string;
  add(run: RollupRun): void;
  docs(now: Date): Array<{ id: string; doc: RollupDoc }>;
}

/** Runs a config must have for its `config:` bucket to be written (repeats of one experiment). */
export const MIN_CONFIG_REPEATS = 2;

/** The accumulator for a bucket key: per-epoch curve documents for `curve:`/`curve_rank:` keys, one bucket document otherwise. */
export function accumulatorFor(key: string): RollupAccumulator {
  if (isCurveKey(key)) {
    return new CurveAccumulator(key);
  }
  const bucket = new BucketAccumulator(key);
  // A config bucket describes repeats of one config: a config run once has nothing to add to its run's document.
  const minRuns = isConfigKey(key) ? MIN_CONFIG_REPEATS : 1;
  return { key, add: (run) => bucket.add(run), docs: (now) => (bucket.runs >= minRuns ? [{ id: key, doc: bucket.toDoc(now) }] : []) };
}

/**
 * The loss curve of a bucket of runs (one task/base-model family, or one family and rank): per epoch, how
 * many runs reached it and the mean, min, max and sum of their per-epoch mean losses. Memory is a few
 * numbers per epoch, whatever the number of runs; the sum is exact, so the mean does not depend on the
 * order runs are added in.
 */
export class CurveAccumulator implements RollupAccumulator {
  readonly key: string;
  private epochs = new Map<number, EpochStats>();

  constructor(key: string) {
    this.key = key;
  }

  /** Adds each epoch of the run's curve once; epochs without a finite mean loss are skipped, not counted. */
  add(run: RollupRun): void {
    const points = run.loss_per_epoch;
    // Curves list their epochs in increasing order, so no set of seen epochs is needed until that order breaks
    // (then every valid point before it was counted, and the set starts from those).
    let seen: Set<number> | null = null;
    let last = -1;
    for (let i = 0; i < points.length; i++) {
      const point = points[i] as (typeof points)[number];
      if (!isCountable(point)) {
        continue;
      }
      if (point.epoch <= last && seen === null) {
        seen = new Set(
          points
            .slice(0, i)
            .filter(isCountable)
            .map((p) => p.epoch),
        );
      }
      if (seen !== null) {
        if (seen.has(point.epoch)) {
          continue;
        }
        seen.add(point.epoch);
      }
      last = Math.max(last, point.epoch);
      let stats = this.epochs.get(point.epoch);
      if (!stats) {
        stats = { runs: 0, sum: new ExactSum(), min: point.mean, max: point.mean };
        this.epochs.set(point.epoch, stats);
      }
      stats.runs += 1;
      stats.sum.add(point.mean);
      stats.min = Math.min(stats.min, point.mean);
      stats.max = Math.max(stats.max, point.mean);
    }
  }

  /** One document per epoch, `<bucket key>:<epoch>`, in epoch order. */
  docs(now: Date): Array<{ id: string; doc: RollupDoc }> {
    const { kind, group, rank } = parseCurveKey(this.key);
    const identity = { kind, key: this.key, computed_at: now.toISOString(), ...groupFields(group), ...(kind === 'curve_rank' ? { lora_rank: rank } : {}) };
    return [...this.epochs.entries()]
      .sort(([a], [b]) => a - b)
      .map(([epoch, stats]) => {
        const sum = stats.sum.value();
        return {
          id: `${this.key}:${epoch}`,
          doc: { ...identity, epoch, runs: stats.runs, loss_mean: sum / stats.runs, loss_min: stats.min, loss_max: stats.max, loss_sum: sum },
        };
      });
  }
}

// --- internal ---

function isCountable(point: { epoch: number; mean: number | null }): point is { epoch: number; mean: number } {
  return isFiniteLoss(point.mean) && Number.isInteger(point.epoch);
}

interface EpochStats {
  runs: number;
  sum: ExactSum;
  min: number;
  max: number;
}

/** `curve:image/sdxl` or `curve_rank:image/sdxl:16` → kind, family group and rank. */
function parseCurveKey(key: string): { kind: 'curve' | 'curve_rank'; group: string; rank: number | null } {
  if (key.startsWith('curve_rank:')) {
    const rest = key.slice('curve_rank:'.length);
    const at = rest.lastIndexOf(':');
    return { kind: 'curve_rank', group: rest.slice(0, at), rank: Number(rest.slice(at + 1)) };
  }
  return { kind: 'curve', group: key.slice('curve:'.length), rank: null };
}
