import { maskUrlCredentials } from '../secrets/shapes.ts';

/** How a command talks to the terminal; tests pass their own. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Rewrites one status line on a TTY (`''` clears it); a no-op otherwise. */
  progress(text: string): void;
  json: boolean;
  tty: boolean;
  /** Terminal width when stdout is a terminal that says; null otherwise. */
  columns?: number | null;
}

export function processIo(json: boolean): Io {
  const tty = Boolean(process.stdout.isTTY);
  return {
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
    progress: (text) => {
      if (tty) {
        process.stderr.write(`\r\u001b[2K${text}`);
      }
    },
    json,
    tty,
    columns: tty ? (process.stdout.columns ?? null) : null,
  };
}

/** Every line the CLI prints goes through here: a URL's password (an Elasticsearch URL with credentials) is never shown. */
export function maskingIo(io: Io): Io {
  return {
    ...io,
    stdout: (text) => io.stdout(maskUrlCredentials(text)),
    stderr: (text) => io.stderr(maskUrlCredentials(text)),
    progress: (text) => io.progress(maskUrlCredentials(text)),
  };
}
