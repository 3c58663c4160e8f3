import { AdapterError, errorMessage, FileError } from '../errors.ts';
import { buildRecord, parseErrorRecord } from '../record/build.ts';
import type { RunRecord } from '../record/schema.ts';
import type { SourceDriver } from '../sources/types.ts';
import type { DiscoveredRun, ParseContext, RootInfo } from './types.ts';
import { lineAt, lineSpans, MAX_LINE } from '../text/lines.ts';

export interface ParseRunOptions {
  driver: SourceDriver;
  root: RootInfo;
  now: Date;
}

/** Default cap for files read whole (configs, JSON states); logs are streamed instead. */
const DEFAULT_MAX_TEXT = 8 * 1024 * 1024;

/** Files up to this size are read in one go by `readLines` (a stream costs more than the read for a small file). */
const SMALL_LINES = 1024 * 1024;

/**
 * Reads one discovered run into its record. Never throws for bad input: an unreadable run becomes a
 * parse_error record naming the file and the problem.
 */
export async function parseRun(run: DiscoveredRun, opts: ParseRunOptions): Promise<RunRecord> {
  const [adapter, ...others] = run.adapters;
  const root = opts.root;
  if (!adapter) {
    throw new AdapterError('adapter-parse-failed', `no adapter for ${run.listing.dir}`);
  }
  if (others.length > 0) {
    return parseErrorRecord({
      format: adapter.id,
      root,
      listing: run.listing,
      file: run.listing.dir || '.',
      message: `ambiguous-layout: matches ${run.adapters.map((a) => a.id).join(', ')}`,
    });
  }
  const warnings: string[] = [];
  const ctx = createContext(opts, run, warnings);
  try {
    const draft = await adapter.parse(ctx);
    if (draft === null) {
      return parseErrorRecord({
        format: adapter.id,
        root,
        listing: run.listing,
        file: run.listing.dir || '.',
        message: 'not a readable run of this format',
        warnings,
      });
    }
    return buildRecord({ draft, format: adapter.id, root, listing: run.listing, warnings });
  } catch (err) {
    // Per-run failures (bad bytes, a file denied or deleted since the listing) never stop the sync;
    // systemic ones (auth, outage) already failed the listing before any run was parsed.
    const file = err instanceof FileError ? err.file : run.listing.dir || '.';
    return parseErrorRecord({ format: adapter.id, root, listing: run.listing, file, message: errorMessage(err), warnings });
  }
}

// --- internal ---

function createContext(opts: ParseRunOptions, run: DiscoveredRun, warnings: string[]): ParseContext {
  const { driver } = opts;
  let sizes: Map<string, number> | undefined;
  // Sizes from the listing, looked up by the readers (built on the first read).
  const listedSize = (key: string): number | undefined => (sizes ??= new Map(run.listing.entries.map((entry) => [entry.key, entry.size]))).get(key);
  return {
    driver,
    root: opts.root,
    listing: run.listing,
    now: opts.now,
    warn(message) {
      if (warnings.length < 50) {
        warnings.push(message);
      }
    },
    async readText(key, maxBytes = DEFAULT_MAX_TEXT) {
      return readText(driver, key, maxBytes, listedSize(key));
    },
    async readLines(key) {
      return readLines(driver, key, listedSize(key));
    },
  };
}

/** `listedSize` (from the listing) saves a stat round trip; the read is capped anyway in case the file grew since. */
async function readText(driver: SourceDriver, key: string, maxBytes: number, listedSize?: number): Promise<string | null> {
  const size = listedSize ?? (await driver.stat(key))?.size;
  if (size === undefined) {
    return null;
  }
  if (size > maxBytes) {
    throw new FileError(key, `file too large to read whole (${size} bytes > ${maxBytes})`);
  }
  // Listed size + 1: a small file costs one read of its size (the fs driver needs no stat for it); a
  // full buffer means the file grew since the listing, and it is read again up to the cap.
  let bytes = await driver.read(key, { start: 0, end: size + 1 });
  if (bytes && bytes.length > size) {
    bytes = await driver.read(key, { start: 0, end: maxBytes + 1 });
  }
  if (bytes && bytes.length > maxBytes) {
    throw new FileError(key, `file too large to read whole (more than ${maxBytes} bytes)`);
  }
  if (!bytes) {
    return null;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (err) {
    throw new FileError(key, 'not valid UTF-8', { cause: err });
  }
}

/** A file's lines: a small one (by its listed size) from one read, any other streamed; null when the file is gone. */
export async function readLines(driver: SourceDriver, key: string, listedSize: number | undefined): Promise<Iterable<string> | AsyncIterable<string> | null> {
  const small = listedSize !== undefined && listedSize <= SMALL_LINES ? await readSmallLines(driver, key, listedSize) : undefined;
  if (small !== undefined) {
    return small;
  }
  const chunks = await driver.stream(key);
  return chunks ? splitLines(chunks) : null;
}

/**
 * A small file's lines from one read, exactly as `splitLines` yields them: with no line over MAX_LINE the chunking
 * of a stream changes nothing. Undefined (stream it instead) when the file grew since the listing or has a longer line.
 */
async function readSmallLines(driver: SourceDriver, key: string, size: number): Promise<string[] | null | undefined> {
  const bytes = await driver.read(key, { start: 0, end: size + 1 });
  if (bytes === null) {
    return null;
  }
  if (bytes.length > size) {
    return undefined;
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const spans = lineSpans(text);
  return spans.long ? undefined : spans.starts.map((_, i) => lineAt(text, spans, i));
}

async function* splitLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let pending = '';
  for await (const chunk of chunks) {
    pending += decoder.decode(chunk, { stream: true });
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      yield pending.slice(0, newline).replace(/\r$/, '');
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
    if (pending.length > MAX_LINE) {
      yield pending.slice(0, MAX_LINE);
      pending = '';
    }
  }
  pending += decoder.decode();
  if (pending.length > 0) {
    yield pending.replace(/\r$/, '');
  }
}
