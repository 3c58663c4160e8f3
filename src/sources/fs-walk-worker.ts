// Runs an fs listing on its own thread (see FsDriverOptions.walkInWorker): the walk's system calls and
// I/O waits overlap with the main thread's work on the entries already listed.
import { parentPort, workerData } from 'node:worker_threads';
import { walkTreeBatches, type FsWalkOptions } from './fs-walk.ts';
import type { SourceEntry, SourceWarning } from './types.ts';

/** Entries per message: big enough to amortise the message, small enough to keep the pipe short. */
const BATCH = 1000;
/** Batches in flight before the walk waits for the main thread to catch up (bounded memory). */
const MAX_UNACKED = 4;

export type WalkMessage = { items: Array<SourceEntry | SourceWarning> } | { done: true } | { error: { message: string; code: string } };

const { options, prefix } = workerData as { options: FsWalkOptions; prefix: string };
let unacked = 0;
let wake: (() => void) | null = null;
parentPort?.on('message', () => {
  unacked -= 1;
  wake?.();
});

try {
  for await (const items of walkTreeBatches(options, prefix, BATCH)) {
    await send({ items });
  }
  parentPort?.postMessage({ done: true } satisfies WalkMessage);
} catch (err) {
  parentPort?.postMessage({
    error: { message: (err as Error).message, code: String((err as { code?: string }).code ?? 'storage-list-failed') },
  } satisfies WalkMessage);
}

async function send(message: WalkMessage): Promise<void> {
  while (unacked >= MAX_UNACKED) {
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = null;
  }
  unacked += 1;
  parentPort?.postMessage(message);
}
