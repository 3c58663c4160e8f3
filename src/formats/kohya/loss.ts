import type { EpochLoss } from '../../record/schema.ts';
import { readTfEventScalarBatches } from '../common/tfevents.ts';
import type { ParseContext } from '../types.ts';
import { splitEpochs, type EpochSplit, type EpochSplitBasis } from './epoch-split.ts';
import { createLossCollector, LOSS_TAGS, type LossPoints } from './loss-points.ts';

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
  /** What assigned the step points to epochs (see epoch-split.ts). */
  epochBasis: EpochSplitBasis;
  lossFinal: number | null;
  lossMin: number | null;
  bestEpoch: number | null;
  /** Loss points read. */
  points: number;
  /** Unix seconds of the first and last loss event. */
  firstWallTime: number | null;
  lastWallTime: number | null;
}

/** Where epochs ended, besides the event files: read lazily, only when the event files do not tell. */
export interface LossEvidence {
  stepsPerEpoch: number | null;
  /** Epoch → `ss_steps` of the run's epoch checkpoints (reads their headers). */
  checkpointSteps(): Promise<Map<number, number>>;
}

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
 * Streams the event files (oldest first) and summarises their loss, every step point counted (no downsampling).
 * A corrupt or truncated file adds a warning and keeps what was readable; it never fails the run.
 */
export async function readLoss(ctx: ParseContext, files: readonly EventFile[], evidence: LossEvidence): Promise<LossSummary | null> {
  const collector = createLossCollector();
  let read = 0;
  for (const file of [...files].sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0))) {
    collector.nextFile();
    try {
      const chunks = await ctx.driver.stream(file.key);
      if (!chunks) {
        ctx.warn(`tfevents ${file.key}: vanished before it could be read`);
        continue;
      }
      const stream = readTfEventScalarBatches(chunks, { tags: (tag) => LOSS_TAGS.has(tag) });
      let next = await stream.next();
      while (next.done !== true) {
        for (const point of next.value) {
          collector.add(point);
        }
        read += next.value.length;
        next = await stream.next();
      }
      const first = next.value.issues[0];
      if (first) {
        ctx.warn(
          `tfevents ${file.key}: ${next.value.issues.length + next.value.issuesOmitted} unreadable part(s), first at byte ${first.offset}: ${first.message}`,
        );
      }
    } catch (err) {
      ctx.warn(`tfevents ${file.key}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (read === 0) {
    return null;
  }
  const points = collector.result();
  let split = splitEpochs(points, { stepsPerEpoch: evidence.stepsPerEpoch, checkpointSteps: new Map() });
  if (split.basis === 'steps-per-epoch' || split.basis === 'none') {
    const checkpointSteps = await evidence.checkpointSteps();
    if (checkpointSteps.size > 0) {
      split = splitEpochs(points, { stepsPerEpoch: evidence.stepsPerEpoch, checkpointSteps });
    }
  }
  for (const warning of split.warnings) {
    ctx.warn(warning);
  }
  return summarizeLoss(points, split);
}

/** Final and lowest loss: per epoch when known, else kohya's running mean (`loss/average`), else the last step loss. */
export function summarizeLoss(points: LossPoints, split: EpochSplit): LossSummary {
  const perEpoch = split.perEpoch;
  const bestEntry = perEpoch.reduce<EpochLoss | null>((best, e) => (best === null || e.mean < best.mean ? e : best), null);
  let currentMin: number | null = null;
  for (const value of points.values) {
    currentMin = currentMin === null || value < currentMin ? value : currentMin;
  }
  return {
    perEpoch,
    epochBasis: split.basis,
    lossFinal: perEpoch.at(-1)?.mean ?? points.averageLast ?? points.values.at(-1) ?? null,
    lossMin: bestEntry?.mean ?? points.averageMin ?? currentMin,
    bestEpoch: bestEntry?.epoch ?? null,
    points: points.seen + points.averages + points.epochs.length,
    firstWallTime: points.firstWallTime,
    lastWallTime: points.lastWallTime,
  };
}
