import type { Client, estypes } from '@elastic/elasticsearch';
import { createPool } from '../pool.ts';

export type BulkOp =
  /** `fallback`: the document to write instead when the engine refuses this one as malformed (a 400), given the engine's reason. */
  | { op: 'index'; id: string; doc: Record<string, unknown>; fallback?: (reason: string) => object }
  /**
   * A document already serialised to UTF-8 JSON (by a parse worker): its bytes go into the body as they are. `fallback` as for
   * `index`; `onWritten` is called once the engine acknowledged it (`replaced`: its fallback was written instead).
   */
  | { op: 'index-bytes'; id: string; doc: Uint8Array; fallback?: (reason: string) => object; onWritten?: (replaced: boolean) => void }
  | { op: 'delete'; id: string }
  | { op: 'update'; id: string; doc: Record<string, unknown>; ifSeqNo?: number; ifPrimaryTerm?: number };

export interface BulkFailure {
  id: string;
  status: number;
  type: string;
  reason: string;
}

export interface BulkStats {
  written: number;
  /** Of `written`: full documents (`index` ops) Elasticsearch acknowledged. */
  indexed: number;
  /** Conditional updates refused because the document changed since it was read (expected for moved runs). */
  conflicts: string[];
  failed: BulkFailure[];
  /** Documents the engine refused (400) and that were replaced by their fallback, which was written. */
  replaced: BulkFailure[];
  retries: number;
  requests: number;
  bytes: number;
}

export interface BulkWriterOptions {
  client: Client;
  index: string;
  /** Flush when the pending NDJSON reaches this size. */
  flushBytes: number;
  /** Bulk requests in flight at once. */
  concurrency: number;
  /** Retries of an item that failed with 429 or 5xx, with exponential backoff. */
  retries: number;
  /** Backoff base in ms (doubled per retry, with jitter). Default 200. */
  backoffMs?: number;
  refresh?: boolean;
}

export interface BulkWriter {
  add(op: BulkOp): Promise<void>;
  /** Sends everything pending and waits for every request in flight. */
  flush(): Promise<BulkStats>;
  stats: BulkStats;
}

/** Statuses worth retrying: throttling and server-side trouble. Everything else is the document's fault. */
function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * Batches operations into `_bulk` requests by size, with bounded concurrency (backpressure: `add`
 * waits when the pipe is full). Failed items are retried individually; what still fails is reported
 * by id, never dropped silently.
 */
export function createBulkWriter(opts: BulkWriterOptions): BulkWriter {
  const stats: BulkStats = { written: 0, indexed: 0, conflicts: [], failed: [], replaced: [], retries: 0, requests: 0, bytes: 0 };
  let pending: PreparedOp[] = [];
  let pendingBytes = 0;
  const requests = createPool(opts.concurrency);

  async function send(batch: PreparedOp[]): Promise<void> {
    let todo = batch;
    for (let attempt = 0; todo.length > 0; attempt++) {
      const retry: PreparedOp[] = [];
      const replace: PreparedOp[] = [];
      let response: estypes.BulkResponse;
      try {
        stats.requests += 1;
        const size = todo.reduce((n, p) => n + p.bytes, 0);
        stats.bytes += size;
        // https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-bulk
        // Documents are serialised once, in `prepare`; the client sends the NDJSON bytes as they are.
        // Only what is read back (each item's status and error, by position): a fraction of the full response to parse.
        response = await opts.client.bulk({
          body: Buffer.concat(
            todo.flatMap((p) => p.chunks),
            size,
          ),
          refresh: opts.refresh ?? false,
          filter_path: BULK_RESPONSE_FIELDS,
        } as estypes.BulkRequest);
      } catch (err) {
        const status = (err as { meta?: { statusCode?: number } }).meta?.statusCode ?? 503;
        if (attempt < opts.retries && retryable(status)) {
          stats.retries += todo.length;
          await sleep(backoff(opts, attempt));
          continue;
        }
        for (const p of todo) {
          stats.failed.push({ id: p.id, status, type: 'request_failed', reason: String((err as Error).message).slice(0, 300) });
        }
        return;
      }
      response.items.forEach((item, i) => {
        const result = item.index ?? item.update ?? item.create ?? item.delete;
        const prepared = todo[i] as PreparedOp;
        if (!result?.error) {
          stats.written += 1;
          if (item.index) {
            stats.indexed += 1;
          }
          prepared.onWritten?.(false);
          return;
        }
        if (result.status === 404 && item.delete) {
          return;
        }
        if (result.status === 409 && prepared.conditional) {
          stats.conflicts.push(prepared.id);
          return;
        }
        if (attempt < opts.retries && retryable(result.status)) {
          retry.push(prepared);
          return;
        }
        const failure = { id: prepared.id, status: result.status, type: result.error.type, reason: String(result.error.reason ?? '').slice(0, 300) };
        // Malformed for the engine: the same bytes would fail on every sync; write what the caller says instead, once.
        if (result.status === 400 && prepared.fallback) {
          stats.replaced.push(failure);
          prepared.onWritten?.(true);
          replace.push(
            prepare(opts.index, { op: 'index', id: prepared.id, doc: prepared.fallback(`${failure.type}: ${failure.reason}`) as Record<string, unknown> }),
          );
          return;
        }
        stats.failed.push({ id: prepared.id, status: result.status, type: result.error.type, reason: String(result.error.reason ?? '').slice(0, 300) });
      });
      if (retry.length > 0) {
        stats.retries += retry.length;
        await sleep(backoff(opts, attempt));
      }
      todo = [...replace, ...retry];
    }
  }

  /**
   * Takes the oldest pending ops up to flushBytes (at least one) as one batch, when the pool has room: requests stay
   * the configured size however much piled up while they waited.
   */
  function takeBatch(): PreparedOp[] {
    let count = 0;
    let bytes = 0;
    while (count < pending.length && bytes < opts.flushBytes) {
      bytes += (pending[count] as PreparedOp).bytes;
      count += 1;
    }
    pendingBytes -= bytes;
    return pending.splice(0, count);
  }

  return {
    stats,
    async add(op) {
      const prepared = prepare(opts.index, op);
      pending.push(prepared);
      pendingBytes += prepared.bytes;
      if (pendingBytes >= opts.flushBytes) {
        // Several adds can wait here for room at once: each sends a full batch if one is still pending when it gets
        // room, and nothing otherwise (else each would send a sliver as its own request).
        await requests.run(() => (pendingBytes >= opts.flushBytes ? send(takeBatch()) : Promise.resolve()));
      }
    },
    async flush() {
      while (pending.length > 0) {
        await requests.run(() => (pending.length > 0 ? send(takeBatch()) : Promise.resolve()));
      }
      await requests.drain();
      return stats;
    },
  };
}

// --- internal ---

const BULK_RESPONSE_FIELDS = ['errors', 'items.*.status', 'items.*.error'];

interface PreparedOp {
  id: string;
  /** The op's NDJSON lines, as bytes (newlines included). */
  chunks: Uint8Array[];
  bytes: number;
  conditional: boolean;
  fallback?: (reason: string) => object;
  onWritten?: (replaced: boolean) => void;
}

function prepare(index: string, op: BulkOp): PreparedOp {
  if (op.op === 'delete') {
    return serialise(op.id, [{ delete: { _index: index, _id: op.id } }], false);
  }
  if (op.op === 'index-bytes') {
    const action = Buffer.from(`${JSON.stringify({ index: { _index: index, _id: op.id } })}\n`);
    const prepared: PreparedOp = { id: op.id, chunks: [action, op.doc, NEWLINE], bytes: action.length + op.doc.length + 1, conditional: false };
    if (op.fallback) {
      prepared.fallback = op.fallback;
    }
    if (op.onWritten) {
      prepared.onWritten = op.onWritten;
    }
    return prepared;
  }
  if (op.op === 'index') {
    const prepared = serialise(op.id, [{ index: { _index: index, _id: op.id } }, op.doc], false);
    return op.fallback ? { ...prepared, fallback: op.fallback } : prepared;
  }
  const conditional = op.ifSeqNo !== undefined && op.ifPrimaryTerm !== undefined;
  const action = { update: { _index: index, _id: op.id, ...(conditional ? { if_seq_no: op.ifSeqNo, if_primary_term: op.ifPrimaryTerm } : {}) } };
  return serialise(op.id, [action, { doc: op.doc }], conditional);
}

const NEWLINE = Buffer.from('\n');

function serialise(id: string, lines: object[], conditional: boolean): PreparedOp {
  const ndjson = Buffer.from(`${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
  return { id, chunks: [ndjson], bytes: ndjson.length, conditional };
}

function backoff(opts: BulkWriterOptions, attempt: number): number {
  const base = (opts.backoffMs ?? 200) * 2 ** attempt;
  return base / 2 + Math.random() * base;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
