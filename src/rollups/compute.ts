import type { EpochLoss } from '../record/schema.ts';
import { familyGroup, groupFields, isoWeekStart, lrBand, type BucketKind } from './keys.ts';

/** The fields of a run document that rollups read. */
export interface RollupRun {
  run_id: string;
  status: string;
  format: string;
  lora_rank: number | null;
  base_model_family: string | null;
  learning_rate: number | null;
  loss_final: number | null;
  best_epoch: number | null;
  config_hash: string | null;
  created_at: string | null;
  /** Only `epoch` and `mean` are read (and fetched) of each point. */
  loss_per_epoch: Array<Pick<EpochLoss, 'epoch' | 'mean'>>;
}

export type RollupDoc = Record<string, unknown> & { kind: string; key: string; computed_at: string };

/** Id of the document that records how far rollups are complete (see `watermarkDoc`). */
export const WATERMARK_ID = 'rollup_watermark';

/** Fields `_source`-filtered from run documents for rollups. */
export const ROLLUP_RUN_FIELDS = [
  'run_id',
  'status',
  'format',
  'lora_rank',
  'base_model_family',
  'learning_rate',
  'loss_final',
  'best_epoch',
  'config_hash',
  'created_at',
  // The curves need an epoch's mean only: the other per-epoch numbers would more than double what a scan moves.
  'loss_per_epoch.epoch',
  'loss_per_epoch.mean',
];

/**
 * The buckets the rollup index last counted a run in (`run:<run_id>`, kind `run_member`). A run that
 * changes or vanishes later names the buckets it left through this doc, so they are recomputed too.
 * `stamp` is the run write it counted: a run whose document still carries that stamp is counted already.
 */
export function runMemberDoc(runId: string, keys: string[], now: Date, stamp: number | null = null): { id: string; doc: RollupDoc } {
  return {
    id: `run:${runId}`,
    doc: { kind: 'run_member', key: `run:${runId}`, computed_at: now.toISOString(), run_id: runId, rollup_keys: [...keys].sort(), rollup_stamp: stamp },
  };
}

/** Rollups are complete for every run write stamped before `stamp` (ms, see sync/doc.ts `writeStamp`). */
export function watermarkDoc(stamp: number, now: Date): RollupDoc {
  return { kind: 'watermark', key: WATERMARK_ID, computed_at: now.toISOString(), rollup_stamp: stamp };
}

/** Streaming accumulator for one bucket; `add` every run of the bucket, then `toDoc`. */
export class BucketAccumulator {
  readonly key: string;
  private count = 0;
  private completed = 0;
  private failed = 0;
  /** Stopped short without an error: not a success either, so it counts in success_rate's denominator. */
  private interrupted = 0;
  private losses: number[] = [];
  private bestEpochs: number[] = [];
  private groups = new Set<string>();

  constructor(key: string) {
    this.key = key;
  }

  /** Runs added so far. */
  get runs(): number {
    return this.count;
  }

  add(run: RollupRun): void {
    this.count += 1;
    this.completed += run.status === 'completed' ? 1 : 0;
    this.failed += run.status === 'failed' ? 1 : 0;
    this.interrupted += run.status === 'interrupted' ? 1 : 0;
    this.groups.add(familyGroup(run.format, run.base_model_family));
    if (run.loss_final !== null && Number.isFinite(run.loss_final)) {
      this.losses.push(run.loss_final);
    }
    if (run.best_epoch !== null) {
      this.bestEpochs.push(run.best_epoch);
    }
  }

  /**
   * The bucket's document. Loss statistics only when every run shares one task and base-model family:
   * a mean over Stable Diffusion and Qwen losses compares nothing, so such a bucket lists its families,
   * says `cross_family: true` and keeps counts and rates only.
   */
  toDoc(now: Date): RollupDoc {
    const [kindPart, rest = ''] = splitOnce(this.key, ':');
    const kind = kindPart as BucketKind;
    const families = [...this.groups].sort();
    const comparable = families.length <= 1;
    const losses = comparable ? [...this.losses].sort((a, b) => a - b) : [];
    const base: RollupDoc = {
      kind,
      key: this.key,
      computed_at: now.toISOString(),
      count: this.count,
      completed: this.completed,
      failed: this.failed,
      families,
      cross_family: !comparable,
      loss_mean: losses.length > 0 ? round(sum(losses) / losses.length) : null,
    };
    const rank = (value: string | undefined) => (value === undefined || value === 'none' ? null : Number(value));
    const stats = {
      loss_min: losses[0] ?? null,
      loss_max: losses.at(-1) ?? null,
      loss_p50: median(losses),
      epochs_to_best_mean: comparable && this.bestEpochs.length > 0 ? round(sum(this.bestEpochs) / this.bestEpochs.length) : null,
      success_rate: this.completed + this.failed + this.interrupted > 0 ? round(this.completed / (this.completed + this.failed + this.interrupted)) : null,
    };
    switch (kind) {
      case 'rank':
        return { ...base, ...stats, lora_rank: rank(rest) };
      case 'base_rank': {
        const [group, r] = splitOnce(rest, '|');
        return { ...base, ...stats, ...groupFields(group), lora_rank: rank(r) };
      }
      case 'lr_rank': {
        const [group, bandAndRank = ''] = splitOnce(rest, '|');
        const [band, r] = splitOnce(bandAndRank, '|');
        return { ...base, ...stats, ...groupFields(group), lr_band: band, lr_band_low: lrBand(Number(band.split('..')[0])).low, lora_rank: rank(r) };
      }
      case 'week': {
        const [week, format] = splitOnce(rest, '|');
        return { ...base, week, week_start: isoWeekStart(week), format, started: this.count };
      }
      case 'config':
        return { ...base, config_hash: rest, loss_std: std(losses), loss_min: stats.loss_min, loss_max: stats.loss_max };
      default:
        return base;
    }
  }
}

// --- internal ---

function splitOnce(value: string, sep: string): [string, string | undefined] {
  const at = value.indexOf(sep);
  return at < 0 ? [value, undefined] : [value.slice(0, at), value.slice(at + sep.length)];
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function median(sorted: number[]): number | null {
  if (sorted.length === 0) {
    return null;
  }
  const mid = Math.floor(sorted.length / 2);
  return round(sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2);
}

/** Sample standard deviation (n − 1); 0 for a single run. */
function std(values: number[]): number | null {
  if (values.length === 0) {
    return null;
  }
  if (values.length === 1) {
    return 0;
  }
  const mean = sum(values) / values.length;
  return round(Math.sqrt(values.reduce((acc, v) => acc + (v - mean) ** 2, 0) / (values.length - 1)));
}

/** Rounding makes full and incremental recomputation bit-identical whatever the summation order. */
function round(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}
