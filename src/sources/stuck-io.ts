// A file read that outlived its deadline (fs-read.ts) still occupies a libuv thread-pool thread, and
// libuv joins those threads when the process exits: `process.exit` would hang with it. Reads happen
// on parse workers as well as on the main thread, so the news travels on a BroadcastChannel, which
// every thread of the process shares; the CLI then ends the process by a signal (cli/signals.ts).

import { BroadcastChannel } from 'node:worker_threads';

const CHANNEL = 'lora-catalog:stuck-io';

let sender: BroadcastChannel | null = null;

/** Says that a read of `key` timed out with its system call still out (`stuck`), or that the call finally returned. */
export function reportStuckRead(key: string, stuck: boolean): void {
  sender ??= new BroadcastChannel(CHANNEL);
  sender.unref();
  sender.postMessage({ key, stuck });
}

/** Counts the reads of any thread of this process that are stuck right now. Never keeps the process alive. */
export function watchStuckReads(): { count(): number; close(): void } {
  const channel = new BroadcastChannel(CHANNEL);
  channel.unref();
  let stuck = 0;
  channel.onmessage = (event) => {
    stuck += (event as { data: { stuck: boolean } }).data.stuck ? 1 : -1;
  };
  return { count: () => stuck, close: () => channel.close() };
}
