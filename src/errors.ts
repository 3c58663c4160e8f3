/** Kebab-case codes; tests assert on these, never on message text. */
export type ErrorCode =
  | 'config-invalid'
  | 'config-not-found'
  | 'storage-list-failed'
  | 'storage-read-failed'
  | 'storage-read-timeout'
  | 'storage-read-cancelled'
  | 'storage-not-found'
  | 'adapter-parse-failed'
  | 'ambiguous-layout'
  | 'engine-download-failed'
  | 'engine-checksum-mismatch'
  | 'engine-start-failed'
  | 'engine-not-running'
  | 'es-unreachable'
  | 'es-request-failed'
  | 'reconcile-aborted'
  | 'mass-vanish'
  | 'bulk-failed'
  | 'rollups-failed'
  | 'lease-held'
  | 'query-syntax'
  | 'kibana-request-failed'
  | 'not-found';

export interface PipelineErrorOptions {
  cause?: unknown;
}

export class PipelineError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options: PipelineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

export class ConfigError extends PipelineError {}
export class StorageError extends PipelineError {}
export class AdapterError extends PipelineError {}

/** An adapter-side failure tied to one file; the record's parse_error names it. */
export class FileError extends AdapterError {
  readonly file: string;

  constructor(file: string, message: string, options: { cause?: unknown } = {}) {
    super('adapter-parse-failed', `${file}: ${message}`, options);
    this.file = file;
  }
}
export class ReconcileError extends PipelineError {}
export class EngineError extends PipelineError {}
export class QueryError extends PipelineError {
  /** 0-based character offset in the query string where the problem is. */
  readonly position: number;

  constructor(message: string, position: number) {
    super('query-syntax', message);
    this.position = position;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
