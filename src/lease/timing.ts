import { PipelineError } from '../errors.ts';

/** Resolves with fn; once `signal` aborts, waits at most graceMs more, then rejects so the lease is released. */
export async function raceAbortGrace<T>(work: Promise<T>, signal: AbortSignal, graceMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const giveUp = new Promise<never>((_, reject) => {
    onAbort = () => {
      timer = setTimeout(() => reject(new PipelineError('reconcile-aborted', 'job did not stop within the abort grace period')), graceMs);
    };
    if (signal.aborted) {
      onAbort();
    } else {
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    return await Promise.race([work, giveUp]);
  } finally {
    clearTimeout(timer);
    if (onAbort) {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/** Waits for work, but at most ms; never rejects. */
export async function settleWithin(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
