import type { RunStatus } from '../../record/schema.ts';
import { RUNNING_WINDOW_MS } from '../hf-trainer/listing.ts';

export interface HfStatusInput {
  /** Log history (or TensorBoard) holds the `train()` summary. */
  hasSummary: boolean;
  /** Present result files (`train_results.json`, `all_results.json`…). */
  resultFiles: readonly string[];
  globalStep: number | null;
  maxSteps: number | null;
  earlyStopping: boolean;
  /** Newest file mtime of the run, epoch ms. */
  newestMtime: number | null;
  now: Date;
}


/** Status of a Trainer run from its files, with the evidence in words (FORMATS §3.6). */
export function hfStatus(input: HfStatusInput): { status: RunStatus; evidence: string } {
  const steps = input.globalStep !== null && input.maxSteps !== null ? `${input.globalStep}/${input.maxSteps} steps` : 'step count unknown';
  const finalResults = input.resultFiles.filter((f) => f === 'train_results.json' || f === 'all_results.json');
  if (input.hasSummary) {
    const early = input.earlyStopping && isShort(input) ? ', stopped early by EarlyStoppingCallback' : '';
    return { status: 'completed', evidence: `trainer_state.json log_history has the train() summary (train_runtime), ${steps}${early}` };
  }
  if (finalResults.length > 0) {
    return { status: 'completed', evidence: `${finalResults.join(', ')} written by save_metrics after training, ${steps}` };
  }
  if (input.newestMtime !== null && input.now.getTime() - input.newestMtime <= RUNNING_WINDOW_MS) {
    return { status: 'running', evidence: `files modified ${minutesAgo(input)} min ago, no train() summary yet, ${steps}` };
  }
  if (isShort(input) && input.earlyStopping) {
    return { status: 'unknown', evidence: `${steps} without train() summary; EarlyStoppingCallback may have stopped it, or the state is a checkpoint copy` };
  }
  if (isShort(input)) {
    return { status: 'failed', evidence: `stopped at ${steps} without train() summary or results, last write ${minutesAgo(input)} min ago` };
  }
  if (input.globalStep !== null && input.maxSteps !== null) {
    return { status: 'unknown', evidence: `${steps} reached but no train() summary (state copied from a checkpoint?)` };
  }
  return { status: 'unknown', evidence: 'no trainer_state.json, summary or result files' };
}

// --- internal ---

function isShort(input: HfStatusInput): boolean {
  return input.globalStep !== null && input.maxSteps !== null && input.maxSteps > 0 && input.globalStep < input.maxSteps;
}

function minutesAgo(input: HfStatusInput): number {
  return input.newestMtime === null ? -1 : Math.round((input.now.getTime() - input.newestMtime) / 60_000);
}
