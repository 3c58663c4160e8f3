import type { RunDraft } from '../record/draft.ts';
import type { FormatId } from '../record/schema.ts';
import type { DirListing, RootInfo, SourceDriver } from '../sources/types.ts';
import type { Markers } from './kit/markers.ts';

// The adapter contract names these; they live where they are made (the listing in sources/, the draft in record/).
export type { RunDraft, RunIdentity } from '../record/draft.ts';
export type { DirListing, RootInfo } from '../sources/types.ts';

export interface ParseContext {
  driver: SourceDriver;
  root: RootInfo;
  listing: DirListing;
  /** Wall clock for status decisions ("running" = touched recently); injected for tests. */
  now: Date;
  /** Reads a text file (UTF-8, BOM stripped) relative to the root, up to `maxBytes` (default 8 MiB); `null` if missing. Throws `AdapterError` when larger or not UTF-8. */
  readText(key: string, maxBytes?: number): Promise<string | null>;
  /** A text file line by line (bounded memory, any size: a small file is read in one go, a larger one streamed); `null` if missing. */
  readLines(key: string): Promise<AsyncIterable<string> | Iterable<string> | null>;
  /** Records a non-fatal problem on the run (ends up in parse_warnings). */
  warn(message: string): void;
}

/** The runs discovery hands to the parser: a directory's listing and the adapters the core gave it to. */
export interface DiscoveredRun {
  kind: 'run';
  listing: DirListing;
  /** One normally; several = equally sure matches, an ambiguous layout (becomes a parse error). */
  adapters: FormatAdapter[];
}

export interface FormatAdapter {
  id: FormatId;
  /** Other spellings a search accepts for this format (`format:hf`); the id always works. */
  aliases?: readonly string[];
  /** The files that identify a run of this format (its own tool's files only); the core checks them and decides between formats (detect.ts). */
  markers: Markers;
  /** Reads the run. `null` = not mine after all (logged at debug). Throwing is allowed: the core turns it into a parse_error record. */
  parse(ctx: ParseContext): Promise<RunDraft | null>;
}
