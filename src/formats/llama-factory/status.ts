import type { StatusInputs } from '../../record/schema.ts';
import { deriveStatus, lastActivity, stepCount, type DerivedStatus, type LogTime } from '../kit/run-status.ts';
import type { RunningLogSummary } from './running-log.ts';
import type { TrainerLogSummary } from './trainer-log.ts';

export interface LlamaFactoryStatusInput {
  log: TrainerLogSummary | null;
  runningLog: RunningLogSummary | null;
  /** mtime of `running_log.txt` (epoch ms): bounds its zone-less stamps. */
  runningLogMtime: number | null;
  /** trainer_state.json holds the `train()` summary. */
  stateSummary: boolean;
  resultFiles: readonly string[];
  /** `training_loss.png`: plot_loss runs after training returned. */
  lossPlot: boolean;
  /** Root weights `save_model` writes after training, run-relative. */
  finalWeights: string | null;
  checkpoints: boolean;
  newestMtime: number | null;
  now: Date;
}

/**
 * Status per FORMATS §4.4, first end marker wins, the rest by the shared rule. Reaching exactly 100 % is not required:
 * with several writers the last line can say 6565/6566 after training returned.
 */
export function llamaFactoryStatus(input: LlamaFactoryStatusInput): DerivedStatus & { inputs: StatusInputs } {
  const inputs = llamaFactoryStatusInputs(input);
  return { ...deriveStatus(inputs, input.now), inputs };
}

export function llamaFactoryStatusInputs(input: Omit<LlamaFactoryStatusInput, 'now'>): StatusInputs {
  const { log, runningLog } = input;
  const completed = completionEvidence(input);
  const failure = completed === null && runningLog?.failure ? `running_log.txt: "${runningLog.failure}"` : null;
  const logTimes: LogTime[] =
    runningLog?.lastTime === null || runningLog?.lastTime === undefined
      ? []
      : [{ at: Date.parse(runningLog.lastTime), source: 'running-log', zoneless: true, fileMtime: input.runningLogMtime }];
  return {
    max_steps: stepCount(log?.totalSteps),
    last_step: stepCount(log?.lastStep),
    final_artifact: input.finalWeights,
    progressed: input.checkpoints || (log?.lastStep ?? 0) > 0 || (runningLog?.trainingStarted ?? false),
    terminal: completed !== null ? 'completed' : failure !== null ? 'failed' : null,
    terminal_evidence: completed ?? failure,
    caveat: null,
    external_logs: [],
    ...lastActivity(logTimes, input.newestMtime),
  };
}

// --- internal ---

function completionEvidence(input: Omit<LlamaFactoryStatusInput, 'now'>): string | null {
  const { log, runningLog } = input;
  if (log?.endLine) {
    return 'trainer_log.jsonl ends with the line train() logs on return';
  }
  if (input.stateSummary) {
    return 'trainer_state.json log_history has the train() summary (train_runtime)';
  }
  if (input.resultFiles.length > 0) {
    return `${input.resultFiles.join(', ')} written after the run`;
  }
  if (input.lossPlot) {
    return 'training_loss.png written after training';
  }
  if (runningLog?.completionMarker) {
    return `running_log.txt: "${runningLog.completionMarker}"`;
  }
  return null;
}
