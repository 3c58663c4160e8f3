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
}

export type BucketKind = 'rank' | 'base_rank' | 'lr_rank' | 'week' | 'config';

/**
 * Bucket keys of a run, e.g. `rank:8`, `base_rank:sd15|8`, `lr_rank:1e-4..3e-4|8`, `week:2025-W10|kohya`,
 * `config:ab12…`. Stored on each run document (`rollup_keys`), so a bucket's runs are one term query away
 * and a changed run names the buckets it leaves as well as the ones it joins.
 */
export function bucketKeys(run: BucketFields): string[] {
  const keys: string[] = [];
  const rank = run.lora_rank === null ? 'none' : String(run.lora_rank);
  keys.push(`rank:${rank}`);
  keys.push(`base_rank:${run.base_model_family ?? 'unknown'}|${rank}`);
  if (run.learning_rate !== null && run.learning_rate > 0) {
    keys.push(`lr_rank:${lrBand(run.learning_rate).label}|${rank}`);
  }
  const when = run.started_at ?? run.created_at;
  if (when) {
    keys.push(`week:${isoWeek(new Date(when))}|${run.format}`);
  }
  if (run.config_hash) {
    keys.push(`config:${run.config_hash}`);
  }
  return keys;
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
