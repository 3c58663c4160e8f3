import { Worker } from 'node:worker_threads';
import type { SourceConfig } from '../config/schema.ts';
import type { DiscoveredRun } from './discover.ts';
import type { DirListing } from '../sources/types.ts';
import { parseRun } from '../formats/parse-run.ts';
import type { FormatId, RunStatus } from '../record/schema.ts';
import { createDriverCache, rootInfo } from '../sources/index.ts';
import type { SourceDriver } from '../sources/types.ts';
import { MODULE_EXT } from '../module-ext.ts';
import { toRunDoc, type RunDoc } from './doc.ts';
import { requestCancel } from './read-cancel.ts';
import { rollupView } from '../rollups/spool.ts';

export interface ParseRequest {
  id: number;
  source: string;
  listing: DirListing;
  adapters: FormatId[];
  now: number;
  firstSeenAt: string | null;
  rollupView: boolean;
}

/**
 * A parsed run as the main thread needs it: the few fields the merge decides on, and the whole run
 * document already serialised to UTF-8 JSON bytes. The bytes cross threads in their batch's one transferred
 * buffer (parse-worker.ts), stay off the main thread's heap while they wait, and go into the `_bulk` body as
 * they are (a view of that buffer, which lives until the batch's last document is sent); a record object
 * would be structured-cloned field by field on both sides, then serialised again for `_bulk`.
 */
export interface ParsedRun {
  runId: string;
  root: string;
  path: string;
  status: RunStatus;
  rollupKeys: string[];
  /** Where and why a run became a parse_error record (for the sync summary), else null. */
  parseError: { location: string; file: string; message: string } | null;
  /** The run document (`toRunDoc`) as UTF-8 JSON, `copy_of: null` (see `decodeDoc`). */
  doc: Uint8Array<ArrayBuffer>;
  /** What the rollups read of the document (rollups/spool.ts `rollupView`) as UTF-8 JSON, when asked for. */
  rollupView?: Uint8Array<ArrayBuffer>;
}

export type ParseResponse = { id: number; parsed: ParsedRun } | { id: number; error: string };

/**
 * A worker's live heap is small (one run at a time per slot), but V8 lets an unbounded heap grow with
 * the garbage of a long sync; a cap makes it collect instead, so memory stays flat over a million runs.
 * Large enough for a 50 MB trainer_state.json.
 */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 16 };

/** How long closing waits for the workers to stop. */
const CLOSE_WAIT_MS = 5000;
/** How long closing waits for busy workers to answer after being asked to stop reading (read-cancel.ts). */
const CANCEL_WAIT_MS = 2000;

export interface ParseOptions {
  now: Date;
  /** `first_seen_at` of the run's current document, if it has one. */
  firstSeenAt: string | null;
  /** Also return the document's rollup view (a sync recording its writes for the rollups). */
  rollupView?: boolean;
}

export interface ParsePool {
  parse(source: SourceConfig, run: DiscoveredRun, opts: ParseOptions): Promise<ParsedRun>;
  close(): Promise<void>;
}

/**
 * Reads runs on worker threads: parsing is CPU work in JavaScript (YAML/TOML/JSON, loss aggregation,
 * validation), and the main thread is needed for the crawl, the merge and the bulk requests. With
 * `workers: 0` runs are read on the main thread.
 */
export function createParsePool(opts: { sources: SourceConfig[]; workers: number }): ParsePool {
  if (opts.workers === 0) {
    return inProcessPool(opts.sources);
  }
  const cancel = new Int32Array(new SharedArrayBuffer(4));
  const workers = Array.from(
    { length: opts.workers },
    () => new Worker(new URL(`./parse-worker${MODULE_EXT}`, import.meta.url), { workerData: { sources: opts.sources, cancel }, resourceLimits: WORKER_LIMITS }),
  );
  const waiting = new Map<number, { resolve: (r: ParsedRun) => void; reject: (e: Error) => void }>();
  let idle: (() => void) | null = null;
  const load = workers.map(() => 0);
  // Requests go out in batches too: every run asked for in one turn of the event loop, one message per worker.
  const outgoing: ParseRequest[][] = workers.map(() => []);
  let sendScheduled = false;
  const sendOutgoing = () => {
    sendScheduled = false;
    outgoing.forEach((batch, i) => {
      if (batch.length > 0) {
        outgoing[i] = [];
        workers[i]?.postMessage(batch);
      }
    });
  };
  let nextId = 0;
  workers.forEach((worker, i) => {
    // A worker answers in batches: every run it finished in one turn of its event loop.
    worker.on('message', (responses: ParseResponse[]) => {
      for (const response of responses) {
        load[i] = (load[i] ?? 1) - 1;
        const pending = waiting.get(response.id);
        waiting.delete(response.id);
        if ('parsed' in response) {
          pending?.resolve(response.parsed);
        } else {
          pending?.reject(new Error(response.error));
        }
      }
      if (waiting.size === 0) {
        idle?.();
      }
    });
    worker.on('error', (err) => {
      for (const pending of waiting.values()) {
        pending.reject(err);
      }
      waiting.clear();
      idle?.();
    });
  });
  return {
    parse(source, run, parseOpts) {
      const id = nextId++;
      const target = load.indexOf(Math.min(...load));
      load[target] = (load[target] ?? 0) + 1;
      const request: ParseRequest = {
        id,
        source: source.name,
        listing: run.listing,
        adapters: run.adapters.map((a) => a.id),
        now: parseOpts.now.getTime(),
        firstSeenAt: parseOpts.firstSeenAt,
        rollupView: parseOpts.rollupView ?? false,
      };
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        outgoing[target]?.push(request);
        if (!sendScheduled) {
          sendScheduled = true;
          setImmediate(sendOutgoing);
        }
      });
    },
    async close() {
      if (waiting.size > 0) {
        // Busy workers stop reading first, so the ones terminated below are idle (see read-cancel.ts).
        requestCancel(cancel);
        await Promise.race([new Promise<void>((resolve) => (idle = resolve)), new Promise((resolve) => setTimeout(resolve, CANCEL_WAIT_MS).unref())]);
      }
      // A worker with a read stuck in the kernel (hung mount) never finishes terminating: bounded wait.
      await Promise.race([Promise.all(workers.map((w) => w.terminate())), new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
      for (const pending of waiting.values()) {
        pending.reject(new Error('the parse pool closed before the run was read'));
      }
      waiting.clear();
    },
  };
}

/** Parses one run and serialises its document: the work of a parse worker, also used in-process. */
export async function parseToDoc(run: DiscoveredRun, source: SourceConfig, driver: SourceDriver, opts: ParseOptions): Promise<ParsedRun> {
  const record = await parseRun(run, { driver, root: rootInfo(source), now: opts.now });
  const doc = toRunDoc(record, { now: opts.now, firstSeenAt: opts.firstSeenAt });
  const parseError = record.parse_error ? { location: record.source.uri, file: record.parse_error.file, message: record.parse_error.message } : null;
  return {
    runId: doc.run_id,
    root: doc.source.root,
    path: doc.source.path,
    status: doc.status,
    rollupKeys: doc.rollup_keys,
    parseError,
    doc: encodeDoc(doc),
    ...(opts.rollupView ? { rollupView: encodeDoc(rollupView(doc as unknown as Record<string, unknown>)) } : {}),
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A run document as the bytes a ParsedRun carries. */
export function encodeDoc(doc: object): Uint8Array<ArrayBuffer> {
  return encoder.encode(JSON.stringify(doc));
}

/** The run document a ParsedRun carries. */
export function decodeDoc(parsed: Pick<ParsedRun, 'doc'>): RunDoc {
  return JSON.parse(decoder.decode(parsed.doc)) as RunDoc;
}

/** The document of `parsed` under another id (a copy of a run indexed elsewhere); rare, so re-parsing the JSON is fine. */
export function withIdentity(parsed: ParsedRun, runId: string, copyOf: string | null): Uint8Array<ArrayBuffer> {
  if (runId === parsed.runId && copyOf === null) {
    return parsed.doc;
  }
  return encodeDoc({ ...decodeDoc(parsed), run_id: runId, copy_of: copyOf });
}

// --- internal ---

function inProcessPool(sources: readonly SourceConfig[]): ParsePool {
  const drivers = createDriverCache(sources);
  return {
    async parse(source, run, opts) {
      const driver = drivers.get(source.name);
      if (!driver) {
        throw new Error(`unknown source ${source.name}`);
      }
      return parseToDoc(run, source, driver, opts);
    },
    async close() {
      await drivers.dispose();
    },
  };
}
