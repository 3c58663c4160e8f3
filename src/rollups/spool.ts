import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { errorMessage } from '../errors.ts';
import { ROLLUP_RUN_FIELDS } from './compute.ts';
import { asScannedRun, MEMBERSHIP_FIELDS, PAGE, type ScannedRun } from './store.ts';

/**
 * The runs a sync wrote, as the rollups read them, kept in a temporary file so that the full recomputation
 * after a first load reads them from there instead of scanning the runs index it was just handed. Only
 * valid while the runs index holds exactly what the sync wrote: the sync arms it on an index that held no
 * run, anything the spool does not describe (an update, a replaced document, a run without its view)
 * poisons it, and the rollups compare the index's document count with the spool's before using it
 * (`spoolMatchesIndex` in run.ts). Poisoned or not matching, the rollups scan the index as always.
 */
export interface RollupSpool {
  /** Starts recording: the sync writes into a runs index that held no run. */
  arm(): void;
  /** Armed and not poisoned: record the runs written. */
  readonly recording: boolean;
  /** When it was armed (ms): every run it describes was written after this. */
  readonly armedAt: number;
  /** Why it cannot be used, or null. */
  readonly poisoned: string | null;
  /** Runs recorded. */
  readonly runs: number;
  /** A run document the engine acknowledged, as its rollup view (`rollupView`, UTF-8 JSON). */
  written(view: Uint8Array): void;
  poison(reason: string): void;
  /** The recorded runs, a page at a time (memory: one page). */
  pages(): AsyncGenerator<ScannedRun[]>;
  /** Closes the file (it has no name: closing frees it). */
  dispose(): void;
}

/** Past this size the spool gives up (the rollups scan the index): it lives in the temporary folder. */
export const SPOOL_MAX_BYTES = 256 * 1024 * 1024;
/** Written to the file in chunks of this size. */
const CHUNK_BYTES = 1024 * 1024;

export function createRollupSpool(opts: { dir?: string; maxBytes?: number } = {}): RollupSpool {
  const maxBytes = opts.maxBytes ?? SPOOL_MAX_BYTES;
  let armedAt = 0;
  let poisoned: string | null = null;
  /** Open while armed: the file has no name, the descriptor is all there is of it. */
  let fd: number | null = null;
  let chunks: Uint8Array[] = [];
  let chunkBytes = 0;
  let bytes = 0;
  let runs = 0;

  const writeOut = () => {
    if (fd !== null && chunkBytes > 0) {
      writeSync(fd, Buffer.concat(chunks, chunkBytes));
    }
    chunks = [];
    chunkBytes = 0;
  };
  const spool: RollupSpool = {
    arm() {
      if (fd !== null || poisoned) {
        return;
      }
      try {
        // The file is unlinked as soon as it is open: the process keeps it through its descriptor, and a killed
        // process leaves nothing behind in the temporary folder.
        const folder = mkdtempSync(path.join(opts.dir ?? os.tmpdir(), 'lora-catalog-rollups-'));
        try {
          fd = openSync(path.join(folder, 'runs.ndjson'), 'w+');
        } finally {
          rmSync(folder, { recursive: true, force: true });
        }
        armedAt = Date.now();
      } catch (err) {
        spool.poison(`no temporary file for the written runs (${errorMessage(err)})`);
      }
    },
    get recording() {
      return fd !== null && poisoned === null;
    },
    get armedAt() {
      return armedAt;
    },
    get poisoned() {
      return poisoned;
    },
    get runs() {
      return runs;
    },
    written(view) {
      if (!spool.recording) {
        return;
      }
      if (bytes + view.length + 1 > maxBytes) {
        spool.poison(`the written runs outgrew ${maxBytes} bytes`);
        return;
      }
      chunks.push(view, NEWLINE);
      chunkBytes += view.length + 1;
      bytes += view.length + 1;
      runs += 1;
      try {
        if (chunkBytes >= CHUNK_BYTES) {
          writeOut();
        }
      } catch (err) {
        spool.poison(`writing the temporary file failed (${errorMessage(err)})`);
      }
    },
    poison(reason) {
      poisoned ??= reason;
      chunks = [];
      chunkBytes = 0;
    },
    async *pages() {
      if (!spool.recording || fd === null) {
        throw new Error(`the rollup spool cannot be read: ${poisoned ?? 'never armed'}`);
      }
      writeOut();
      // Read from the start by position through the same descriptor (the file has no name any more).
      const lines = createInterface({ input: createReadStream('', { fd, start: 0, autoClose: false }), crlfDelay: Infinity });
      let page: ScannedRun[] = [];
      for await (const line of lines) {
        if (line.length > 0) {
          page.push(asScannedRun(JSON.parse(line) as ScannedRun));
        }
        if (page.length === PAGE) {
          yield page;
          page = [];
        }
      }
      if (page.length > 0) {
        yield page;
      }
    },
    dispose() {
      closeFd();
    },
  };
  const closeFd = () => {
    if (fd !== null) {
      closeSync(fd);
      fd = null;
    }
  };
  return spool;
}

/**
 * What the rollups read of a run document, as `_source` filtering on ROLLUP_RUN_FIELDS and MEMBERSHIP_FIELDS
 * returns it: the top-level fields the document has (nulls included), and of each loss point its epoch and mean.
 */
export function rollupView(doc: Record<string, unknown>): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const field of VIEW_FIELDS) {
    if (field in doc) {
      view[field] = doc[field];
    }
  }
  const points = doc.loss_per_epoch;
  if (Array.isArray(points) && points.length > 0) {
    view.loss_per_epoch = points.map((p: Record<string, unknown>) => pick(p, POINT_FIELDS));
  }
  return view;
}

// --- internal ---

const NEWLINE = new Uint8Array([0x0a]);
const VIEW_FIELDS = [...new Set([...ROLLUP_RUN_FIELDS, ...MEMBERSHIP_FIELDS])].filter((f) => !f.includes('.'));
const POINT_FIELDS = ROLLUP_RUN_FIELDS.filter((f) => f.startsWith('loss_per_epoch.')).map((f) => f.slice('loss_per_epoch.'.length));

function pick(obj: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (f in obj) {
      out[f] = obj[f];
    }
  }
  return out;
}
