import type { SourceDriver, SourceEntry } from '../sources/types.ts';
import type { FormatId, RunRecord } from '../record/schema.ts';

/**
 * A candidate run directory as the crawler saw it: its own files plus the files of sub-folders
 * that were not runs themselves (checkpoint-N/, logs/, samples…). Keys are relative to the source root.
 */
export interface DirListing {
  /** Directory key relative to the root (`''` = root), no trailing slash. */
  dir: string;
  /** Every entry under `dir` that belongs to it, in byte order of key. */
  entries: SourceEntry[];
  /** `entries` keys relative to `dir` (same order), e.g. `checkpoint-100/trainer_state.json`. */
  names: string[];
}

/** What a parser knows about the root it reads from. */
export interface RootInfo {
  name: string;
  kind: 'fs' | 's3';
  /** Absolute path or `s3://bucket/prefix` of the root, no trailing slash. */
  uri: string;
}

export interface ParseContext {
  driver: SourceDriver;
  root: RootInfo;
  listing: DirListing;
  /** Wall clock for status decisions ("running" = touched recently); injected for tests. */
  now: Date;
  /** Reads a text file (UTF-8, BOM stripped) relative to the root, up to `maxBytes` (default 8 MiB); `null` if missing. Throws `AdapterError` when larger or not UTF-8. */
  readText(key: string, maxBytes?: number): Promise<string | null>;
  /** Streams a text file line by line (bounded memory, any size); `null` if missing. */
  readLines(key: string): Promise<AsyncIterable<string> | null>;
  /** Records a non-fatal problem on the run (ends up in parse_warnings). */
  warn(message: string): void;
}

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

export interface FormatAdapter {
  id: FormatId;
  /** Pure over the listing, no I/O: does this directory look like a run of this format? */
  detect(listing: DirListing): boolean;
  /** Reads the run. `null` = not mine after all (logged at debug). Throwing is allowed: the core turns it into a parse_error record. */
  parse(ctx: ParseContext): Promise<RunDraft | null>;
}
