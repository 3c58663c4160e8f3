import { Worker } from 'node:worker_threads';
import type { SourceConfig } from '../config/schema.ts';
import type { DiscoveredRun } from './discover.ts';
import type { DirListing } from '../sources/types.ts';
import { parseRun } from '../formats/parse-run.ts';
import type { FormatId, RunRecord } from '../record/schema.ts';
import { createDriver, createDriverCache, rootInfo } from '../sources/index.ts';
import { MODULE_EXT } from '../module-ext.ts';

export interface ParseRequest {
  id: number;
  source: string;
  listing: DirListing;
  adapters: FormatId[];
  now: number;
}

export type ParseResponse = { id: number; record: RunRecord } | { id: number; error: string };

/**
 * A worker's live heap is small (one run at a time per slot), but V8 lets an unbounded heap grow with
 * the garbage of a long sync; a cap makes it collect instead, so memory stays flat over a million runs.
 * Large enough for a 50 MB trainer_state.json.
 */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 16 };

/** How long closing waits for the workers to stop. */
const CLOSE_WAIT_MS = 5000;

export interface ParsePool {
  parse(source: SourceConfig, run: DiscoveredRun, now: Date): Promise<RunRecord>;
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
  const workers = Array.from({ length: opts.workers }, () => new Worker(new URL(`./parse-worker${MODULE_EXT}`, import.meta.url), { workerData: { sources: opts.sources }, resourceLimits: WORKER_LIMITS }));
  const waiting = new Map<number, { resolve: (r: RunRecord) => void; reject: (e: Error) => void }>();
  const load = workers.map(() => 0);
  let nextId = 0;
  workers.forEach((worker, i) => {
    worker.on('message', (response: ParseResponse) => {
      load[i] = (load[i] ?? 1) - 1;
      const pending = waiting.get(response.id);
      waiting.delete(response.id);
      if ('record' in response) {
        pending?.resolve(response.record);
      } else {
        pending?.reject(new Error(response.error));
      }
    });
    worker.on('error', (err) => {
      for (const pending of waiting.values()) {
        pending.reject(err);
      }
      waiting.clear();
    });
  });
  return {
    parse(source, run, now) {
      const id = nextId++;
      const target = load.indexOf(Math.min(...load));
      load[target] = (load[target] ?? 0) + 1;
      const request: ParseRequest = { id, source: source.name, listing: run.listing, adapters: run.adapters.map((a) => a.id), now: now.getTime() };
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        workers[target]?.postMessage(request);
      });
    },
    async close() {
      // A worker with a read stuck in the kernel (hung mount) never finishes terminating: bounded wait.
      await Promise.race([Promise.all(workers.map((w) => w.terminate())), new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
    },
  };
}

// --- internal ---

function inProcessPool(sources: readonly SourceConfig[]): ParsePool {
  const drivers = createDriverCache(sources);
  return {
    async parse(source, run, now) {
      const driver = drivers.get(source.name) ?? createDriver(source);
      return parseRun(run, { driver, root: rootInfo(source), now });
    },
    async close() {},
  };
}
