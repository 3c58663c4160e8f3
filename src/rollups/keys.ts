/** The fields of a run that decide which rollup buckets it belongs to. */
export interface BucketFields {
  run_id: string;
  lora_rank: number | null;
  base_model_family: string | null;
  learning_rate: number | null;
  started_at: string | null;
  created_at: string | null;
  format: string;
  config_hash: string | null;
  /** Only whether some epoch has a finite mean loss matters here (a run without one has no curve to add). */
  loss_per_epoch: ReadonlyArray<{ mean: number | null }>;
}

export type BucketKind = 'rank' | 'base_rank' | 'lr_rank' | 'week' | 'config' | 'curve' | 'curve_rank';

/** What a run trains: losses are only comparable within one task and one base-model family. */
export type RunTask = 'image' | 'text' | 'audio' | 'unknown';

/** Base-model families of image generators (the kohya and lora-scripts families, and diffusers bases trained with PEFT). */
const IMAGE_FAMILIES = new Set(['sd15', 'sd2', 'sdxl', 'sd3', 'flux', 'chroma', 'hunyuan', 'lumina', 'anima']);
/** Speech models: their losses are on yet another scale. */
const AUDIO_FAMILIES = new Set(['whisper']);
/** Trainers that only train image models, whatever the family says (or when it says nothing). */
const IMAGE_FORMATS = new Set(['kohya', 'lora-scripts-yaml']);
/** Trainers that only train language models. */
const TEXT_FORMATS = new Set(['llama-factory']);

/** The task of a run, from its base-model family first and its trainer second; `unknown` rather than a guess. */
export function taskOf(format: string, family: string | null): RunTask {
  if (family !== null && AUDIO_FAMILIES.has(family)) {
    return 'audio';
  }
  if ((family !== null && IMAGE_FAMILIES.has(family)) || IMAGE_FORMATS.has(format)) {
    return 'image';
  }
  if (family !== null || TEXT_FORMATS.has(format)) {
    return 'text';
  }
  return 'unknown';
}

/**
 * The comparable group of a run, `<task>/<family>` (`image/sdxl`, `text/qwen`, `text/unknown`): every
 * bucket that carries loss statistics is split by it, so no mean mixes loss scales.
 */
export function familyGroup(format: string, family: string | null): string {
  return `${taskOf(format, family)}/${family ?? 'unknown'}`;
}

/**
 * Bucket keys of a run, e.g. `rank:8`, `base_rank:image/sd15|8`, `lr_rank:image/sd15|1e-4..3e-4|8`,
 * `week:2025-W10|kohya`, `config:ab12…`, `curve:image/sd15`, `curve_rank:image/sd15:8`. `rank` and `week`
 * buckets span families and carry counts only. Stored on each run document (`rollup_keys`), so a
 * bucket's runs are one term query away.
 */
export function bucketKeys(run: BucketFields): string[] {
  const keys: string[] = [];
  const rank = run.lora_rank === null ? 'none' : String(run.lora_rank);
  const group = familyGroup(run.format, run.base_model_family);
  keys.push(`rank:${rank}`);
  keys.push(`base_rank:${group}|${rank}`);
  if (run.learning_rate !== null && run.learning_rate > 0) {
    keys.push(`lr_rank:${group}|${lrBand(run.learning_rate).label}|${rank}`);
  }
  const when = run.started_at ?? run.created_at;
  if (when) {
    keys.push(`week:${isoWeek(new Date(when))}|${run.format}`);
  }
  if (run.config_hash) {
    keys.push(`config:${run.config_hash}`);
  }
  // Loss curves only of a known family (a curve of `text/unknown` mixes whatever models those are) and of
  // runs that have one; per rank only where the rank is known.
  if (run.base_model_family !== null && run.loss_per_epoch.some((e) => isFiniteLoss(e.mean))) {
    keys.push(`curve:${group}`);
    if (run.lora_rank !== null) {
      keys.push(`curve_rank:${group}:${rank}`);
    }
  }
  return keys;
}

/** Curve buckets (`curve:`, `curve_rank:`) write one document per epoch instead of one per bucket. */
export function isConfigKey(key: string): boolean {
  return key.startsWith('config:');
}

export function isCurveKey(key: string): boolean {
  return key.startsWith('curve:') || key.startsWith('curve_rank:');
}

/** A per-epoch loss that can enter a mean: a number, finite (a NaN or null loss says nothing about the curve). */
export function isFiniteLoss(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** `image/sdxl` → the task and family fields of a bucket split by family group. */
export function groupFields(group: string): { task: string; base_model_family: string; family_group: string } {
  const at = group.indexOf('/');
  return at < 0
    ? { task: group, base_model_family: 'unknown', family_group: group }
    : { task: group.slice(0, at), base_model_family: group.slice(at + 1), family_group: group };
}

/** Half-decade learning-rate bands on a log scale: [1e-4, 3e-4), [3e-4, 1e-3), … */
export function lrBand(lr: number): { label: string; low: number } {
  const exponent = Math.floor(Math.log10(lr) + 1e-9);
  const mantissa = lr / 10 ** exponent;
  const low = mantissa < 3 - 1e-9 ? 1 : 3;
  const lowValue = Number(`${low}e${exponent}`);
  const high = low === 1 ? `3e${exponent}` : `1e${exponent + 1}`;
  return { label: `${low}e${exponent}..${high}`, low: lowValue };
}

/** ISO 8601 week (`2025-W01`), in UTC. */
export function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** Monday 00:00 UTC of an ISO week key. */
export function isoWeekStart(week: string): string {
  const [year, w] = week.split('-W').map(Number) as [number, number];
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const monday = new Date(jan4.getTime() - ((jan4.getUTCDay() || 7) - 1) * 86_400_000);
  return new Date(monday.getTime() + (w - 1) * 7 * 86_400_000).toISOString();
}

/**
 * The `rollup_stamp` of a run write (ms since the epoch, wall clock even under an injected test clock:
 * it orders writes against rollup watermarks, it is not a fact about the run). Every write that can
 * change what a run contributes to the rollups carries one; rollups recompute what was stamped since
 * their last completed watermark.
 */
export function writeStamp(): number {
  return Date.now();
}
