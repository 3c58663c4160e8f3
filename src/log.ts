import { maskUrlCredentials } from './secrets/shapes.ts';

/** Structured logger: JSON lines on stderr when not a TTY (for log shippers), short human lines on a TTY. */
export interface Logger {
  debug(meta: Record<string, unknown>, msg: string): void;
  info(meta: Record<string, unknown>, msg: string): void;
  warn(meta: Record<string, unknown>, msg: string): void;
  error(meta: Record<string, unknown>, msg: string): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface LoggerOptions {
  level?: LogLevel;
  json?: boolean;
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = LEVELS[opts.level ?? 'info'];
  const json = opts.json ?? !process.stderr.isTTY;
  // Error messages from the client name the node URL, credentials included.
  const write = opts.write ?? ((line: string) => process.stderr.write(`${maskUrlCredentials(line)}\n`));
  function emit(level: Exclude<LogLevel, 'silent'>, meta: Record<string, unknown>, msg: string): void {
    if (LEVELS[level] < min) {
      return;
    }
    if (json) {
      write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...serialise(meta) }));
      return;
    }
    const extra = Object.entries(serialise(meta))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    write(`${level.toUpperCase().padEnd(5)} ${msg}${extra ? ` ${extra}` : ''}`);
  }
  return {
    debug: (meta, msg) => emit('debug', meta, msg),
    info: (meta, msg) => emit('info', meta, msg),
    warn: (meta, msg) => emit('warn', meta, msg),
    error: (meta, msg) => emit('error', meta, msg),
  };
}

export const silentLogger: Logger = createLogger({ level: 'silent' });

// --- internal ---

function serialise(meta: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta)) {
    out[key] = value instanceof Error ? { name: value.name, message: value.message, code: (value as { code?: unknown }).code } : value;
  }
  return out;
}
