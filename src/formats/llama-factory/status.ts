import type { RunStatus } from '../../record/schema.ts';
import { RUNNING_WINDOW_MS } from '../hf-trainer/listing.ts';
import type { RunningLogSummary } from './running-log.ts';
import type { TrainerLogSummary } from './trainer-log.ts';

export interface LlamaFactoryStatusInput {
  log: TrainerLogSummary | null;
  runningLog: RunningLogSummary | null;
  /** trainer_state.json holds the `train()` summary. */
  stateSummary: boolean;
  resultFiles: readonly string[];
  /** `training_loss.png`: plot_loss runs after training returned. */
  lossPlot: boolean;
  newestMtime: number | null;
  now: Date;
}

/**
 * Status per FORMATS §4.4, first evidence wins. Reaching exactly 100 % is not required: with several writers the
 * last line can say 6565/6566 after training returned.
 */
export function llamaFactoryStatus(input: LlamaFactoryStatusInput): { status: RunStatus; evidence: string } {
  const { log, runningLog } = input;
  const progress = log && log.lastStep !== null ? `${log.lastStep}/${log.totalSteps ?? '?'}${log.lastPercentage !== null ? ` (${log.lastPercentage} %)` : ''}` : null;
  if (log?.endLine) {
    return { status: 'completed', evidence: `trainer_log.jsonl ends with the line train() logs on return, at ${progress}` };
  }
  if (input.stateSummary) {
    return { status: 'completed', evidence: 'trainer_state.json log_history has the train() summary (train_runtime)' };
  }
  if (input.resultFiles.length > 0) {
    return { status: 'completed', evidence: `${input.resultFiles.join(', ')} written after the run${progress ? `, log at ${progress}` : ''}` };
  }
  if (input.lossPlot) {
    return { status: 'completed', evidence: 'training_loss.png written after training' };
  }
  if (runningLog?.completionMarker) {
    return { status: 'completed', evidence: `running_log.txt: "${runningLog.completionMarker}"` };
  }
  if (log && log.trainingLines === 0 && log.lastStep !== null && log.totalSteps !== null && log.lastStep >= log.totalSteps) {
    return { status: 'completed', evidence: `evaluation log reached ${progress}` };
  }
  if (input.newestMtime !== null && input.now.getTime() - input.newestMtime <= RUNNING_WINDOW_MS) {
    const minutes = Math.round((input.now.getTime() - input.newestMtime) / 60_000);
    return { status: 'running', evidence: `files modified ${minutes} min ago${progress ? `, log at ${progress}` : ''}` };
  }
  if (progress !== null) {
    return { status: 'failed', evidence: `trainer_log.jsonl stops at ${progress} without results or a completion marker` };
  }
  if (runningLog?.trainingStarted) {
    return { status: 'failed', evidence: 'running_log.txt shows training started but no completion marker' };
  }
  return { status: 'unknown', evidence: 'no trainer_log.jsonl progress, results or completion marker' };
}
