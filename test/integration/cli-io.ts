import { parseSyncArgs, type ParsedSyncArgs } from '../../src/cli/sync.ts';
import type { Io } from '../../src/cli/io.ts';

/** An Io that keeps what a command prints (stdout and stderr in one list, in order), not on a terminal, not JSON. */
export function captureIo(): Io & { out: string[] } {
  const out: string[] = [];
  return { out, stdout: (t) => out.push(t), stderr: (t) => out.push(t), progress: () => {}, json: false, tty: false };
}

/** `sync` arguments as the CLI parses them; a usage error throws. */
export function parseSync(argv: string[]): ParsedSyncArgs {
  const args = parseSyncArgs(argv, new Date());
  if (typeof args === 'string') {
    throw new Error(args);
  }
  return args;
}
