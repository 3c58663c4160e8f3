import type { SourceEntry } from '../../sources/types.ts';
import { derived, sharedListing, SHARED_LISTING_MAX, type SharedListing } from '../kit/shared-listing.ts';
import type { ParseContext } from '../types.ts';
import { eventFile, type EventFile } from './loss.ts';
import { LOG_RUN_DIR } from './names.ts';

/** What links an output folder to its `--logging_dir`: config keys, else the output names. */
export interface LogLinkHints {
  /** Root-relative run folder. */
  runDir: string;
  logging_dir?: string;
  /** `--log_prefix`; `''` when the config has a logging_dir but no prefix. Undefined = guess from `stems`. */
  log_prefix?: string;
  log_tracker_name?: string;
  output_dir?: string;
  /** Output names of the weights in the run folder (log prefixes are often the output name). */
  stems: string[];
}

/** Entries listed per candidate logging folder (the shared listing's cap): a shared `_logs` of a busy Colab drive stays bounded. */
const MAX_LISTED = SHARED_LISTING_MAX;

/** Tails of an absolute logging_dir tried below the root, longest first. */
const MAX_TAIL_SEGMENTS = 4;

/** Where runs without a config keep their logs, relative to the run folder. */
const GUESSED_LOG_DIRS = ['../logs', '../log', '../_logs', '../../logs', '../../log', '../../_logs'];

/**
 * Finds the event files of `<logging_dir>/<log_prefix><YYYYmmddHHMMSS>/<tracker>/` for a run whose logs live outside
 * its folder. The logging_dir is resolved against the folder sd-scripts ran in (derived from a relative output_dir),
 * the run folder and its parent; an absolute path of the training machine is mapped through the output_dir, else
 * its tail is tried below the root. Listing failures become warnings.
 */
export async function findLinkedEventFiles(ctx: ParseContext, hints: LogLinkHints): Promise<EventFile[]> {
  const prefixes = hints.log_prefix !== undefined ? [hints.log_prefix] : [...new Set(hints.stems.flatMap((s) => (s === '' ? [s] : [s, `${s}_`])))];
  if (prefixes.length === 0) {
    return [];
  }
  for (const dir of candidateDirs(hints)) {
    const files = await listEventFiles(ctx, dir, prefixes, hints.log_tracker_name);
    if (files.length > 0) {
      return files;
    }
  }
  return [];
}

/** Root-relative folders to look in, best first, without duplicates and without the run folder itself. */
export function candidateDirs(hints: LogLinkHints): string[] {
  const run = segments(hints.runDir);
  const out: string[] = [];
  const add = (parts: string[] | null): void => {
    const key = parts?.join('/');
    if (key !== undefined && key !== hints.runDir && !out.includes(key)) {
      out.push(key);
    }
  };
  const logging = hints.logging_dir === undefined ? null : normalisePath(hints.logging_dir);
  if (logging === null) {
    for (const rel of GUESSED_LOG_DIRS) {
      add(join(run, segments(rel)));
    }
    return out;
  }
  const output = hints.output_dir === undefined ? null : normalisePath(hints.output_dir);
  // The run folder is where output_dir pointed on the training machine, so the path from output_dir to
  // logging_dir leads from the run folder to the logs wherever the tree was copied to.
  if (output && output.absolute === logging.absolute) {
    add(join(run, relativePath(output.parts, logging.parts)));
  }
  if (!logging.absolute) {
    add(join(run, logging.parts));
    add(join(run.slice(0, -1), logging.parts));
    return out;
  }
  for (let n = Math.min(MAX_TAIL_SEGMENTS, logging.parts.length); n >= 1; n--) {
    add(logging.parts.slice(-n));
  }
  return out;
}

// --- internal ---

interface NormalisedPath {
  absolute: boolean;
  parts: string[];
}

/** Windows (`C:\x`, `C:/x`, `\\host\share`) and POSIX paths → segments; `~` counts as absolute. */
function normalisePath(raw: string): NormalisedPath {
  const text = raw.trim().replaceAll('\\', '/');
  const absolute = /^([A-Za-z]:)?\//.test(text) || text.startsWith('~') || /^[A-Za-z]:/.test(text);
  const body = text.replace(/^[A-Za-z]:/, '').replace(/^~/, '');
  return { absolute, parts: segments(body) };
}

function segments(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

/** Resolves `..` against `base`; null when it climbs above the root. */
function join(base: string[], rel: string[]): string[] | null {
  const out = [...base];
  for (const part of rel) {
    if (part === '..') {
      if (out.length === 0) {
        return null;
      }
      out.pop();
    } else {
      out.push(part);
    }
  }
  return out;
}

/** Segments leading from folder `from` to folder `to` (both relative to one base, `..` kept literally). */
function relativePath(from: string[], to: string[]): string[] {
  let common = 0;
  while (common < from.length && common < to.length && from[common] === to[common]) {
    common++;
  }
  return [...Array.from({ length: from.length - common }, () => '..'), ...to.slice(common)];
}

/** A log folder's event-file candidates: `<folder>/<tracker>/<file>` entries, with their place in the listing. */
interface LogFolderEntry {
  at: number;
  entry: SourceEntry;
  tracker: string;
}

/** Entries three levels down in folders named `<prefix><YYYYmmddHHMMSS>`, by prefix. */
function logFoldersByPrefix(listing: SharedListing, dir: string): Map<string, LogFolderEntry[]> {
  const out = new Map<string, LogFolderEntry[]>();
  listing.entries.forEach((entry, at) => {
    const rel = segments(entry.key.slice(dir === '' ? 0 : dir.length + 1));
    const prefix = rel.length === 3 ? LOG_RUN_DIR.exec(rel[0] ?? '')?.[1] : undefined;
    if (prefix === undefined) {
      return;
    }
    let list = out.get(prefix);
    if (!list) {
      list = [];
      out.set(prefix, list);
    }
    list.push({ at, entry, tracker: rel[1] ?? '' });
  });
  return out;
}

async function listEventFiles(ctx: ParseContext, dir: string, prefixes: readonly string[], tracker: string | undefined): Promise<EventFile[]> {
  const listing = await sharedListing(ctx.driver, dir);
  const byPrefix = derived(listing, 'kohya-log-folders', (l) => logFoldersByPrefix(l, dir));
  const candidates = prefixes
    .flatMap((prefix) => byPrefix.get(prefix) ?? [])
    .filter((c) => tracker === undefined || c.tracker === tracker)
    .sort((a, b) => a.at - b.at);
  const out: EventFile[] = [];
  for (const { entry } of candidates) {
    const file = eventFile(entry);
    if (file) {
      out.push(file);
    }
  }
  if (listing.truncated) {
    ctx.warn(`log search in ${dir || '.'}: stopped after ${MAX_LISTED} entries`);
  } else if (listing.error) {
    ctx.warn(`log search in ${dir || '.'}: ${listing.error.message}`);
  }
  return out;
}
