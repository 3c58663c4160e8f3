import type { EpochLoss } from '../../record/schema.ts';
import { shortestFloat32 } from '../common/float32.ts';
import type { LossPoints } from './loss-points.ts';

/** Evidence outside the event files that says where an epoch ended. */
export interface EpochEvidence {
  /** Epoch → global step at its end: `ss_epoch` → `ss_steps` of the epoch checkpoints and the final weights. */
  checkpointSteps: ReadonlyMap<number, number>;
  /** Optimizer steps per epoch: ceil(`ss_num_batches_per_epoch` / gradient accumulation steps). */
  stepsPerEpoch: number | null;
}

/**
 * Which evidence assigned the step points to epochs, most trusted first: the epoch scalars' own step numbers
 * (forks log them at the global step), their place in the file (sd-scripts logs the epoch scalar right after
 * the epoch's last step, at step = epoch number), their wall times, the checkpoints' `ss_steps`, the
 * steps per epoch; `none` when nothing did.
 */
export type EpochSplitBasis = 'epoch-event-steps' | 'file-order' | 'wall-time' | 'checkpoint-steps' | 'steps-per-epoch' | 'none';

export interface EpochSplit {
  perEpoch: EpochLoss[];
  basis: EpochSplitBasis;
  warnings: string[];
}

/**
 * Per-epoch loss: mean = the epoch scalar when logged (kohya's mean of the epoch's micro-batch losses), else the
 * mean of the epoch's step points (as a float32, like the scalar); last/min over its step points; steps = optimizer
 * steps completed in it.
 * An epoch whose points cannot be told apart keeps only its scalar (last/min/steps null); no epoch is invented.
 */
export function splitEpochs(points: LossPoints, evidence: EpochEvidence): EpochSplit {
  const warnings: string[] = [];
  const events = points.epochs;
  const asSteps = events.length > 0 && epochStepsAreGlobalSteps(points);
  const scalarOf = new Map<number, number>();
  events.forEach((e, i) => scalarOf.set(asSteps ? i + 1 : e.step, e.value));
  if (points.truncated) {
    warnings.push(`loss/current: ${points.seen} points, more than the ${points.steps.length} kept; per-epoch last/min/steps left empty`);
    return { perEpoch: scalarsOnly(scalarOf), basis: 'none', warnings };
  }
  if (points.steps.length === 0) {
    return { perEpoch: scalarsOnly(scalarOf), basis: 'none', warnings };
  }
  const tries: Array<[EpochSplitBasis, () => Map<number, number[]> | null]> = [
    ['epoch-event-steps', () => (asSteps ? byBoundaries(points, new Map(events.map((e, i) => [i + 1, e.step]))) : null)],
    [
      'file-order',
      () => {
        const dropped: string[] = [];
        const groups = asSteps || events.length === 0 ? null : byFileOrder(points, dropped);
        warnings.push(...(groups === null ? [] : dropped));
        return groups;
      },
    ],
    ['wall-time', () => (asSteps || events.length === 0 ? null : byWallTime(points))],
    ['checkpoint-steps', () => byBoundaries(points, boundariesFrom(evidence, points, 'checkpoints'))],
    ['steps-per-epoch', () => byBoundaries(points, boundariesFrom(evidence, points, 'steps-per-epoch'))],
  ];
  for (const [basis, attempt] of tries) {
    const groups = attempt();
    if (groups !== null && groups.size > 0) {
      return { perEpoch: summarize(points, groups, scalarOf), basis, warnings };
    }
  }
  warnings.push(
    `loss/current: ${points.steps.length} step points but nothing maps them to epochs (no epoch scalar in order, no checkpoint ss_steps, no ss_num_batches_per_epoch); per-epoch last/min/steps left empty`,
  );
  return { perEpoch: scalarsOnly(scalarOf), basis: 'none', warnings };
}

// --- internal ---

/**
 * sd-scripts logs the epoch scalar at step = epoch number (1, 2, 3…); some forks at the global step where the epoch
 * ended. Consecutive numbers are epoch numbers; a single scalar is a global step only when the step point logged
 * just before it has that step.
 */
function epochStepsAreGlobalSteps(points: LossPoints): boolean {
  const events = points.epochs;
  const increasing = events.every((e, i) => i === 0 || e.step > (events[i - 1]?.step ?? 0));
  if (!increasing) {
    return false;
  }
  if (events.length >= 2) {
    return !events.every((e, i) => e.step === (events[0]?.step ?? 0) + i);
  }
  const only = events[0];
  return only !== undefined && only.cut > 0 && points.steps[only.cut - 1] === only.step && only.step > 1;
}

/** Points between two epoch scalars of one file belong to the latter; points after a file's last one to the next epoch. */
function byFileOrder(points: LossPoints, warnings: string[]): Map<number, number[]> | null {
  const groups = new Map<number, number[]>();
  const files = points.fileStarts.length - 1;
  let lastEpoch = 0;
  for (let file = 0; file < files; file++) {
    let from = points.fileStarts[file] ?? 0;
    const end = points.fileStarts[file + 1] ?? from;
    for (const event of points.epochs.filter((e) => e.file === file)) {
      if (event.cut <= from) {
        return null;
      }
      groups.set(event.step, range(from, event.cut));
      from = event.cut;
      lastEpoch = event.step;
    }
    if (end > from && file === files - 1) {
      groups.set(lastEpoch + 1, range(from, end));
    } else if (end > from) {
      warnings.push(
        `loss/current: ${end - from} step points after the last epoch of event file ${file + 1} (an interrupted epoch, repeated after resuming) left out`,
      );
    }
  }
  return groups;
}

/** Points logged after one epoch scalar's wall time and up to the next belong to the latter. */
function byWallTime(points: LossPoints): Map<number, number[]> | null {
  const events = points.epochs;
  if (!events.every((e, i) => i === 0 || e.wallTime > (events[i - 1]?.wallTime ?? 0))) {
    return null;
  }
  const groups = new Map<number, number[]>(events.map((e) => [e.step, []]));
  const trailing: number[] = [];
  points.wallTimes.forEach((wall, i) => {
    const event = events.find((e) => wall <= e.wallTime);
    (event ? groups.get(event.step) : trailing)?.push(i);
  });
  if ([...groups.values()].some((g) => g.length === 0)) {
    return null;
  }
  const last = events.at(-1)?.step ?? 0;
  if (trailing.length > 0) {
    groups.set(last + 1, trailing);
  }
  return groups;
}

/**
 * Epoch → global step at its end. `checkpoints`: the checkpoints' `ss_steps` as they are, unless the steps per
 * epoch agree with every one of them (then `steps-per-epoch` gives the same ends plus the epochs without a
 * checkpoint). `steps-per-epoch`: epoch × steps per epoch, only when no checkpoint contradicts it.
 */
function boundariesFrom(evidence: EpochEvidence, points: LossPoints, kind: 'checkpoints' | 'steps-per-epoch'): Map<number, number> {
  const spe = evidence.stepsPerEpoch !== null && evidence.stepsPerEpoch > 0 ? evidence.stepsPerEpoch : null;
  const known = new Map([...evidence.checkpointSteps].filter(([epoch, step]) => epoch >= 1 && step >= 1));
  const speAgrees = spe !== null && [...known].every(([epoch, step]) => step === epoch * spe);
  if (kind === 'checkpoints') {
    return speAgrees ? new Map() : known;
  }
  if (spe === null || !speAgrees) {
    return new Map();
  }
  let lastUpdate = 0;
  points.steps.forEach((step, i) => {
    lastUpdate = Math.max(lastUpdate, effectiveStep(step, points.completes[i] ?? 0));
  });
  const epochs = Math.max(1, Math.ceil(lastUpdate / spe));
  return new Map(Array.from({ length: epochs }, (_, i) => [i + 1, (i + 1) * spe]));
}

/**
 * Assigns each point to the epoch whose end step is the first at or after the point's update (kohya logs a point
 * after its micro-batch: a completing point belongs to its own step, an accumulating one to the next). An epoch
 * needs the end of the epoch before it (or to be epoch 1) to be resolvable; points after the last end form the
 * next, unfinished epoch. Null when the ends are not increasing.
 */
function byBoundaries(points: LossPoints, ends: ReadonlyMap<number, number>): Map<number, number[]> | null {
  const ordered = [...ends].sort((a, b) => a[0] - b[0]);
  if (ordered.length === 0 || !ordered.every(([, step], i) => i === 0 || step > (ordered[i - 1]?.[1] ?? 0))) {
    return null;
  }
  const groups = new Map<number, number[]>();
  const lastEpoch = ordered.at(-1)?.[0] ?? 0;
  points.steps.forEach((step, i) => {
    const update = effectiveStep(step, points.completes[i] ?? 0);
    const k = ordered.findIndex(([, end]) => end >= update);
    const epoch = k === -1 ? lastEpoch + 1 : (ordered[k]?.[0] ?? 0);
    // The epoch's start is known when it is epoch 1 or the epoch before it has a known end.
    const startKnown = k === -1 || (k === 0 ? epoch === 1 : ordered[k - 1]?.[0] === epoch - 1);
    if (!startKnown) {
      return;
    }
    const list = groups.get(epoch);
    if (list) {
      list.push(i);
    } else {
      groups.set(epoch, [i]);
    }
  });
  return groups;
}

function effectiveStep(step: number, completes: number): number {
  return completes === 1 ? step : step + 1;
}

function summarize(points: LossPoints, groups: ReadonlyMap<number, number[]>, scalarOf: ReadonlyMap<number, number>): EpochLoss[] {
  const out = new Map<number, EpochLoss>();
  for (const [epoch, indices] of groups) {
    if (indices.length === 0) {
      continue;
    }
    let sum = 0;
    let min = Number.POSITIVE_INFINITY;
    let steps = 0;
    for (const i of indices) {
      const value = points.values[i] ?? 0;
      sum += Math.fround(value);
      min = Math.min(min, value);
      steps += points.completes[i] ?? 0;
    }
    const last = points.values[indices.at(-1) ?? 0] ?? 0;
    // Like kohya's own epoch scalar: the mean of the float32 losses, logged as a float32.
    out.set(epoch, { epoch, mean: scalarOf.get(epoch) ?? shortestFloat32(sum / indices.length), last, min, steps });
  }
  for (const [epoch, mean] of scalarOf) {
    if (!out.has(epoch)) {
      out.set(epoch, { epoch, mean, last: null, min: null, steps: null });
    }
  }
  return [...out.values()].sort((a, b) => a.epoch - b.epoch);
}

function scalarsOnly(scalarOf: ReadonlyMap<number, number>): EpochLoss[] {
  return [...scalarOf].sort((a, b) => a[0] - b[0]).map(([epoch, mean]) => ({ epoch, mean, last: null, min: null, steps: null }));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
