import { errorMessage } from '../../../errors.ts';
import { readTfEvents } from '../tfevents.ts';
import type { ParseContext } from '../../types.ts';
import { createLossAggregator, type LossSummary } from './epoch-loss.ts';
import { keyOf, type TfEventsFile } from './listing.ts';

export interface TfLoss {
  loss: LossSummary;
  /** Last `eval/X` values as `eval_X`. */
  evalMetrics: Record<string, number>;
  /** A writer logged the `train()` summary (`train/train_runtime`). */
  hasSummary: boolean;
  /** Highest step seen. */
  lastStep: number | null;
  /** Unix seconds of the newest event read. */
  lastWallTime: number | null;
}

/** Tags the HF TensorBoardCallback writes that a run record uses (`rewrite_logs`: eval_X → eval/X, else train/X). */
function wanted(tag: string): boolean {
  return tag === 'train/loss' || tag === 'train/epoch' || tag === 'train/train_runtime' || tag === 'train/train_loss' || tag.startsWith('eval/');
}

/** The loss curve from the Trainer's TensorBoard files, for runs that kept no trainer_state.json. Never throws for bad bytes. */
export async function readTfLoss(ctx: ParseContext, files: readonly TfEventsFile[]): Promise<TfLoss | null> {
  const losses: { step: number; value: number }[] = [];
  const epochs = new Map<number, number>();
  const evalMetrics: Record<string, number> = {};
  let hasSummary = false;
  let lastStep: number | null = null;
  let lastWallTime: number | null = null;
  for (const file of files) {
    try {
      const chunks = await ctx.driver.stream(keyOf(ctx.listing, file.name));
      if (chunks === null) {
        continue;
      }
      const result = await readTfEvents(chunks, { tags: wanted });
      if (result.issues.length > 0) {
        ctx.warn(`${file.name}: ${result.issues.length + result.issuesOmitted} unreadable record(s)`);
      }
      for (const [tag, points] of result.scalars) {
        for (const point of points) {
          lastStep = Math.max(lastStep ?? point.step, point.step);
          lastWallTime = Math.max(lastWallTime ?? point.wallTime, point.wallTime);
          if (tag === 'train/loss') {
            losses.push({ step: point.step, value: point.value });
          } else if (tag === 'train/epoch') {
            epochs.set(point.step, point.value);
          } else if (tag === 'train/train_runtime') {
            hasSummary = true;
          } else if (tag === 'train/train_loss') {
            evalMetrics.train_loss = point.value;
          } else {
            evalMetrics[`eval_${tag.slice('eval/'.length)}`] = point.value;
          }
        }
      }
    } catch (err) {
      ctx.warn(`${file.name}: ${errorMessage(err)}`);
    }
  }
  if (losses.length === 0 && !hasSummary && Object.keys(evalMetrics).length === 0) {
    return null;
  }
  const aggregator = createLossAggregator();
  for (const point of losses.sort((a, b) => a.step - b.step)) {
    const epoch = epochs.get(point.step);
    aggregator.add(point.value, epoch === undefined ? null : epoch);
  }
  return { loss: aggregator.result(), evalMetrics, hasSummary, lastStep, lastWallTime };
}
