import type { RunRecord } from './schema.ts';

/** Evidence for the run's identity; the core turns it into run_id. */
export interface RunIdentity {
  /** A UUID the run carries (run-id file, `run_id` key, UUID in folder name). */
  explicit?: string | null;
  /** Content evidence that survives a move/rename, e.g. kohya `ss_session_id` + start time. */
  content?: string | null;
}

/** What an adapter returns; the core adds identity, source, fingerprint, config_hash, redaction and validation. */
export type RunDraft = Partial<
  Omit<RunRecord, 'run_id' | 'run_id_basis' | 'source' | 'format' | 'fingerprint' | 'parser_version' | 'config_hash' | 'parse_warnings'>
> & { identity: RunIdentity };
