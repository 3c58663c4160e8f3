import type { EpochLoss } from '../../record/schema.ts';
import { readTfEvents, type TfScalar } from '../common/tfevents.ts';
import type { ParseContext } from '../types.ts';

/** A TensorBoard event file that may hold this run's loss. */
export interface EventFile {
  /** Root-relative key. */
  key: string;
  size: number;
  mtime: number;
  /** `<prefix><YYYYmmddHHMMSS>` folder (root-relative) the file belongs to. */
  logDir: string;
  /** Unix seconds from the file name (`events.out.tfevents.<ts>.<host>.<pid>.<n>`), null if unparsable. */
  createdAt: number | null;
  /** `<ts>.<host>.<pid>` part of the file name: the writer's identity. */
  writerId: string | null;
}

export interface LossSummary {
  perEpoch: EpochLoss[];
  lossFinal: number | null;
  lossMin: number | null;
  bestEpoch: number | null;
  /** Loss points read (before downsampling). */
  points: number;
  /** Unix seconds of the first and last loss event. */
  firstWallTime: number | null;
  lastWallTime: number | null;
}

/** Tags read from kohya event files; lr and norm tags are skipped to save memory. */
const LOSS_TAGS = new Set(['loss/current', 'loss/average', 'loss/epoch', 'loss/epoch_average']);

/** accelerate's `add_hparams` writes a sibling event file under a float-named folder; it has no loss. */
const HPARAMS_DIR = /^\d+\.\d+$/;

/** One day: a log folder created later than this after the run started belongs to another run. */
const MAX_LOG_DELAY_S = 86_400;

/** Describes an event file from its key (`…/<prefix><ts>/<tracker>/events.out.tfevents.<ts>.<host>.<pid>.<n>`). */
export function eventFile(entry: { key: string; size: number; mtime: number }): EventFile | null {
  const segments = entry.key.split('/');
  const base = segments.at(-1) ?? '';
  const m = /^events\.out\.tfevents\.(\d+(?:\.\d+)?)\.(.+)\.(\d+)\.\d+$/.exec(base) ?? /^events\.out\.tfevents\.(\d+(?:\.\d+)?)\.(.+)$/.exec(base);
  if (!base.startsWith('events.out.tfevents.') || HPARAMS_DIR.test(segments.at(-2) ?? '')) {
    return null;
  }
  const parentIsTracker = segments.length >= 3 && /\d{14}$/.test(segments.at(-3) ?? '');
  const logDir = segments.slice(0, parentIsTracker ? -2 : -1).join('/');
  return {
    key: entry.key,
    size: entry.size,
    mtime: entry.mtime,
    logDir,
    createdAt: m ? Number(m[1]) : null,
    writerId: m ? base.slice('events.out.tfevents.'.length).replace(/\.\d+$/, '') : null,
  };
}

/**
 * Picks the log folder of the run: the one whose event files were created closest to `refTime` (unix seconds) and
 * not more than a day after it; without a reference time, the newest. Returns that folder's files.
 */
export function chooseLogDir(files: readonly EventFile[], refTime: number | null): EventFile[] {
  const byDir = new Map<string, EventFile[]>();
  for (const file of files) {
    byDir.set(file.logDir, [...(byDir.get(file.logDir) ?? []), file]);
  }
  let best: { dir: string; score: number } | null = null;
  for (const [dir, group] of byDir) {
    const created = Math.min(...group.map((f) => f.createdAt ?? f.mtime / 1000));
    if (refTime !== null && created > refTime + MAX_LOG_DELAY_S) {
      continue;
    }
    const score = refTime === null ? -created : Math.abs(created - refTime);
    if (best === null || score < best.score) {
      best = { dir, score };
    }
  }
  return best ? (byDir.get(best.dir) ?? []) : [];
}

/**
 * Streams the event files and summarises their loss. A corrupt or truncated file adds a warning and keeps what was
 * readable; it never fails the run.
 */
export async function readLoss(ctx: ParseContext, files: readonly EventFile[], stepsPerEpoch: number | null): Promise<LossSummary | null> {
  const merged = new Map<string, TfScalar[]>();
  for (const file of [...files].sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0))) {
    try {
      const chunks = await ctx.driver.stream(file.key);
      if (!chunks) {
        ctx.warn(`tfevents ${file.key}: vanished before it could be read`);
        continue;
      }
      const result = await readTfEvents(chunks, { tags: (tag) => LOSS_TAGS.has(tag) });
      const first = result.issues[0];
      if (first) {
        ctx.warn(`tfevents ${file.key}: ${result.issues.length + result.issuesOmitted} unreadable part(s), first at byte ${first.offset}: ${first.message}`);
      }
      for (const [tag, points] of result.scalars) {
        merged.set(tag, [...(merged.get(tag) ?? []), ...points]);
      }
    } catch (err) {
      ctx.warn(`tfevents ${file.key}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (merged.size === 0) {
    return null;
  }
  return summarizeLoss(merged, stepsPerEpoch);
}

/**
 * Per-epoch loss from kohya tags: `loss/epoch` (≤ v0.9) or `loss/epoch_average` (v0.10+) give the epoch mean at
 * step = epoch; `loss/current` (every micro-batch, step = global step) gives last/min/steps, split at the wall time
 * of each epoch point, or by `stepsPerEpoch` when there is no epoch tag.
 */
export function summarizeLoss(scalars: ReadonlyMap<string, readonly TfScalar[]>, stepsPerEpoch: number | null): LossSummary {
  const epochTag = scalars.get('loss/epoch') ?? scalars.get('loss/epoch_average') ?? [];
  const current = scalars.get('loss/current') ?? [];
  const average = scalars.get('loss/average') ?? [];
  const perEpoch = epochTag.length > 0 ? fromEpochTag(epochTag, current) : stepsPerEpoch ? fromSteps(current, stepsPerEpoch) : [];
  const all = [...epochTag, ...current, ...average];
  const bestEntry = perEpoch.reduce<EpochLoss | null>((best, e) => (best === null || e.mean < best.mean ? e : best), null);
  const fallback = average.length > 0 ? average : current;
  return {
    perEpoch,
    lossFinal: perEpoch.at(-1)?.mean ?? fallback.at(-1)?.value ?? null,
    lossMin: bestEntry?.mean ?? minOf(fallback),
    bestEpoch: bestEntry?.epoch ?? null,
    points: all.length,
    firstWallTime: all.reduce<number | null>((min, p) => (min === null || p.wallTime < min ? p.wallTime : min), null),
    lastWallTime: all.reduce<number | null>((max, p) => (max === null || p.wallTime > max ? p.wallTime : max), null),
  };
}

// --- internal ---

function fromEpochTag(epochTag: readonly TfScalar[], current: readonly TfScalar[]): EpochLoss[] {
  const byEpoch = new Map<number, TfScalar>();
  for (const point of epochTag) {
    byEpoch.set(Math.max(0, Math.round(point.step)), point);
  }
  const ordered = [...byEpoch].sort((a, b) => a[0] - b[0]);
  const out: EpochLoss[] = [];
  let from = Number.NEGATIVE_INFINITY;
  for (const [epoch, point] of ordered) {
    const inside = current.filter((p) => p.wallTime > from && p.wallTime <= point.wallTime);
    from = point.wallTime;
    out.push({
      epoch,
      mean: point.value,
      last: inside.at(-1)?.value ?? point.value,
      min: minOf(inside) ?? point.value,
      steps: new Set(inside.map((p) => p.step)).size,
    });
  }
  return out;
}

function fromSteps(current: readonly TfScalar[], stepsPerEpoch: number): EpochLoss[] {
  const groups = new Map<number, TfScalar[]>();
  for (const point of current) {
    // kohya logs after incrementing global_step, so steps 1..N belong to epoch 1 (step 0 = before the first update).
    const epoch = Math.max(1, Math.ceil(point.step / stepsPerEpoch));
    const group = groups.get(epoch);
    if (group) {
      group.push(point);
    } else {
      groups.set(epoch, [point]);
    }
  }
  return [...groups]
    .sort((a, b) => a[0] - b[0])
    .map(([epoch, points]) => ({
      epoch,
      mean: points.reduce((sum, p) => sum + p.value, 0) / points.length,
      last: points.at(-1)?.value ?? 0,
      min: minOf(points) ?? 0,
      steps: new Set(points.map((p) => p.step)).size,
    }));
}

function minOf(points: readonly TfScalar[]): number | null {
  let min: number | null = null;
  for (const p of points) {
    min = min === null || p.value < min ? p.value : min;
  }
  return min;
}
