import type { StatusInputs } from '../../record/schema.ts';
import { deriveStatus, lastActivity, stepCount, type DerivedStatus, type LogTime } from '../kit/run-status.ts';

export interface HfStatusInput {
  /** Log history (or TensorBoard) holds the `train()` summary. */
  hasSummary: boolean;
  /** Present result files (`train_results.json`, `all_results.json`…). */
  resultFiles: readonly string[];
  globalStep: number | null;
  maxSteps: number | null;
  earlyStopping: boolean;
  /** Root weights `trainer.save_model()` writes after training (`adapter_model.safetensors`…), run-relative. */
  finalWeights: string | null;
  /** `checkpoint-N/` folders exist. */
  checkpoints: boolean;
  /** Unix seconds of the newest TensorBoard event read, when the events were read. */
  lastWallTime: number | null;
  /** Newest file mtime of the run, epoch ms. */
  newestMtime: number | null;
  now: Date;
}

/** Status of a Trainer run from its files (FORMATS §3.6), decided by the shared rule with the evidence in words. */
export function hfStatus(input: HfStatusInput): DerivedStatus & { inputs: StatusInputs } {
  const inputs = hfStatusInputs(input);
  return { ...deriveStatus(inputs, input.now), inputs };
}

export function hfStatusInputs(input: Omit<HfStatusInput, 'now'>): StatusInputs {
  const finalResults = input.resultFiles.filter((f) => f === 'train_results.json' || f === 'all_results.json');
  const short = input.globalStep !== null && input.maxSteps !== null && input.globalStep < input.maxSteps;
  const early = input.earlyStopping && short ? ', stopped early by EarlyStoppingCallback' : '';
  const terminalEvidence = input.hasSummary
    ? `trainer_state.json log_history has the train() summary (train_runtime)${early}`
    : finalResults.length > 0
      ? `${finalResults.join(', ')} written by save_metrics after training`
      : null;
  const logTimes: LogTime[] = input.lastWallTime === null ? [] : [{ at: input.lastWallTime * 1000, source: 'tfevents' }];
  return {
    max_steps: stepCount(input.maxSteps),
    last_step: stepCount(input.globalStep),
    final_artifact: input.finalWeights,
    progressed: input.checkpoints || (input.globalStep ?? 0) > 0,
    terminal: terminalEvidence === null ? null : 'completed',
    terminal_evidence: terminalEvidence,
    caveat: short && input.earlyStopping ? 'EarlyStoppingCallback may have stopped it, or the state is a checkpoint copy' : null,
    external_logs: [],
    ...lastActivity(logTimes, input.newestMtime),
  };
}
