// Worker side of the parse pool: reads runs with the same adapters and drivers as the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import type { SourceConfig } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import type { DiscoveredRun } from './discover.ts';
import { adapters } from '../formats/index.ts';
import { createDriver } from '../sources/index.ts';
import type { SourceDriver } from '../sources/types.ts';
import { cancellable } from './read-cancel.ts';
import { parseToDoc, type ParseRequest, type ParseResponse } from './parse-pool.ts';

const { sources: sourceList, cancel } = workerData as { sources: SourceConfig[]; cancel: Int32Array };
const sources = new Map(sourceList.map((s) => [s.name, s]));
/** One driver per source, made on first use; its reads stop when the pool asks (read-cancel.ts). */
const drivers = new Map<string, SourceDriver>();
const byId = new Map(adapters.map((a) => [a.id, a]));

// Answers are sent in batches: one message per turn of the event loop, not one per run.
let outbox: ParseResponse[] = [];
let scheduled = false;

parentPort?.on('message', (requests: ParseRequest[]) => {
  for (const request of requests) {
    void handle(request).then((response) => {
      outbox.push(response);
      if (!scheduled) {
        scheduled = true;
        setImmediate(sendOutbox);
      }
    });
  }
});

function sendOutbox(): void {
  scheduled = false;
  const batch = outbox;
  outbox = [];
  // Every document of the batch moves in one transferred buffer: a transfer per document costs more
  // than the copy into it (each detached buffer is a backing store to create and account for on both sides).
  parentPort?.postMessage(batch, [packBytes(batch)]);
}

/** Copies the batch's document bytes into one buffer and points each response at its slice of it. */
function packBytes(batch: ParseResponse[]): ArrayBuffer {
  let size = 0;
  for (const response of batch) {
    if ('parsed' in response) {
      size += response.parsed.doc.byteLength + (response.parsed.rollupView?.byteLength ?? 0);
    }
  }
  const buffer = new ArrayBuffer(size);
  let at = 0;
  const place = (bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> => {
    const slice = new Uint8Array(buffer, at, bytes.byteLength);
    slice.set(bytes);
    at += bytes.byteLength;
    return slice;
  };
  for (const response of batch) {
    if ('parsed' in response) {
      response.parsed.doc = place(response.parsed.doc);
      if (response.parsed.rollupView) {
        response.parsed.rollupView = place(response.parsed.rollupView);
      }
    }
  }
  return buffer;
}

function driverFor(source: SourceConfig): SourceDriver {
  let driver = drivers.get(source.name);
  if (!driver) {
    driver = cancellable(createDriver(source), cancel);
    drivers.set(source.name, driver);
  }
  return driver;
}

async function handle(request: ParseRequest): Promise<ParseResponse> {
  try {
    const source = sources.get(request.source);
    if (!source) {
      throw new Error(`unknown source ${request.source}`);
    }
    const driver = driverFor(source);
    const run: DiscoveredRun = { kind: 'run', listing: request.listing, adapters: request.adapters.map((id) => byId.get(id)).filter((a) => a !== undefined) };
    const parsed = await parseToDoc(run, source, driver, { now: new Date(request.now), firstSeenAt: request.firstSeenAt, rollupView: request.rollupView });
    return { id: request.id, parsed };
  } catch (err) {
    return { id: request.id, error: errorMessage(err) };
  }
}
