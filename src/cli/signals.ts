// SIGTERM/SIGINT end the process within seconds, whatever is stuck. The first signal aborts the
// command's signal: the sync stops, withLease releases its lease (within its own grace), and the
// command returns. A thread-pool call that never returns (a read on a hung mount) cannot be
// cancelled, and it also blocks `process.exit`, because libuv joins its threads at exit. So a process
// that was told to stop ends by re-raising the signal with its default action (exit status 128 + n,
// 143 for SIGTERM): immediate, no join. A second signal, or FORCE_EXIT_MS without a clean return, ends it
// the same way at once, leaving an unreleased lease to expire by its TTL.

import { watchStuckReads } from '../sources/stuck-io.ts';

export interface StopHandlers {
  /** Removes the handlers (the signal's default action applies again). */
  dispose(): void;
}

/** How long a stopping command may take to return before the process ends anyway. */
export const FORCE_EXIT_MS = 10_000;

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

let received: NodeJS.Signals | null = null;

/** Reads past their deadline whose system call is still out, in any thread (they would hang process.exit). */
const stuckReads = watchStuckReads();

/** Aborts `abort` on the first SIGTERM/SIGINT; ends the process on a second one or after `forceAfterMs`. */
export function installStopHandlers(abort: AbortController, opts: { forceAfterMs?: number; stderr: (line: string) => void }): StopHandlers {
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received !== null) {
      opts.stderr(`lora-catalog: ${signal} again: exiting now`);
      raise(signal);
    }
    received = signal;
    opts.stderr(`lora-catalog: ${signal}: stopping (forced exit in ${Math.round((opts.forceAfterMs ?? FORCE_EXIT_MS) / 1000)} s)`);
    abort.abort(new Error(`stopped by ${signal}`));
    setTimeout(() => {
      opts.stderr(`lora-catalog: still running ${Math.round((opts.forceAfterMs ?? FORCE_EXIT_MS) / 1000)} s after ${signal}: exiting now`);
      raise(signal);
    }, opts.forceAfterMs ?? FORCE_EXIT_MS).unref();
  };
  for (const signal of STOP_SIGNALS) {
    process.on(signal, onSignal);
  }
  return {
    dispose() {
      for (const signal of STOP_SIGNALS) {
        process.off(signal, onSignal);
      }
    },
  };
}

/** Ends the process with `code`; after a stop signal, or with a read stuck in the kernel, by a signal instead (see the top of this file). */
export function exitProcess(code: number, stderr: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): never {
  if (received !== null) {
    raise(received);
  }
  if (stuckReads.count() > 0) {
    stderr(`lora-catalog: ${stuckReads.count()} file read(s) still stuck in the kernel (hung mount?); exit ${code} is not possible, ending by SIGTERM`);
    raise('SIGTERM');
  }
  process.exit(code);
}

// --- internal ---

function raise(signal: NodeJS.Signals): never {
  for (const s of STOP_SIGNALS) {
    process.removeAllListeners(s);
  }
  process.kill(process.pid, signal);
  // The default action normally ends the process inside kill(); should delivery lag, wait, and never fall through to a hanging exit.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}
