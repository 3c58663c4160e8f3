import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One operation of a `_bulk` request body: its action line (and source line, except for deletes). */
export interface BulkItem {
  action: 'index' | 'create' | 'update' | 'delete';
  id: string;
  lines: string[];
}

/** What the proxy does with a whole `_bulk` request, or with each of its items. */
export type BulkFault =
  /** Answer the whole request with this HTTP status; nothing reaches the engine. */
  | { request: number }
  /** Items whose id maps to a status are kept from the engine and answered with that status (429 = the write queue is full). */
  | { items: Map<string, number> }
  | null;

export interface BulkFaultProxy {
  url: string;
  /** Every `_bulk` request seen, as the ids it carried, in order. */
  bulks: string[][];
  close(): Promise<void>;
}

/** The engine's own rejection, as a full write queue reports it (`EsRejectedExecutionException`). */
const REJECTED = { type: 'es_rejected_execution_exception', reason: 'rejected execution (queue capacity reached), injected by the test proxy' };

/**
 * A loopback HTTP proxy in front of the real Elasticsearch. For each `_bulk` request, `fault(n, items)` (n is
 * 1-based) may refuse the whole request or some of its items: refused items are removed from the body the
 * engine gets, and their answers are spliced into the engine's response at their positions, so the engine
 * never wrote them and a retry must. Everything else is forwarded untouched.
 */
export async function startBulkFaultProxy(target: string, fault: (n: number, items: BulkItem[]) => BulkFault): Promise<BulkFaultProxy> {
  const upstream = new URL(target);
  const bulks: string[][] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const isBulk = req.method === 'POST' && (req.url ?? '').split('?')[0]?.endsWith('/_bulk') === true;
      if (!isBulk) {
        forward(upstream, req, body, res, (status, text, headers) => {
          // The body is passed on whole: its length replaces any chunked encoding the engine used.
          const { 'transfer-encoding': _chunked, ...kept } = headers;
          res.writeHead(status, { ...kept, 'content-length': Buffer.byteLength(text) });
          res.end(text);
        });
        return;
      }
      const items = parseBulk(body);
      bulks.push(items.map((i) => i.id));
      const plan = fault(bulks.length, items);
      if (plan && 'request' in plan) {
        send(res, plan.request, JSON.stringify({ error: { root_cause: [REJECTED], ...REJECTED }, status: plan.request }));
        return;
      }
      const refused = plan?.items ?? new Map<string, number>();
      const kept = items.filter((i) => !refused.has(i.id));
      if (kept.length === 0) {
        send(res, 200, JSON.stringify({ errors: true, took: 0, items: items.map((i) => refusal(i, refused.get(i.id) ?? 429)) }));
        return;
      }
      forward(upstream, req, kept.flatMap((i) => i.lines).join(''), res, (status, text) => {
        const response = JSON.parse(text) as { errors: boolean; items: object[] };
        const answers = [...response.items];
        const merged = items.map((i) => (refused.has(i.id) ? refusal(i, refused.get(i.id) ?? 429) : answers.shift()));
        send(res, status, JSON.stringify({ ...response, errors: response.errors || refused.size > 0, items: merged }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bulks,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// --- internal ---

function parseBulk(body: string): BulkItem[] {
  const lines = body.split('\n').filter((line) => line !== '');
  const items: BulkItem[] = [];
  for (let i = 0; i < lines.length;) {
    const actionLine = lines[i] as string;
    const [action, meta] = Object.entries(JSON.parse(actionLine) as Record<string, { _id: string }>)[0] as [BulkItem['action'], { _id: string }];
    const count = action === 'delete' ? 1 : 2;
    items.push({ action, id: meta._id, lines: lines.slice(i, i + count).map((line) => `${line}\n`) });
    i += count;
  }
  return items;
}

function refusal(item: BulkItem, status: number): object {
  return { [item.action]: { _id: item.id, status, error: REJECTED } };
}

function forward(
  upstream: URL,
  req: http.IncomingMessage,
  body: string,
  res: http.ServerResponse,
  done: (status: number, text: string, headers: http.IncomingHttpHeaders) => void,
): void {
  const headers = { ...req.headers, host: upstream.host, 'content-length': String(Buffer.byteLength(body)) };
  delete headers['accept-encoding'];
  const request = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (up) => {
    const chunks: Buffer[] = [];
    up.on('data', (chunk: Buffer) => chunks.push(chunk));
    up.on('end', () => done(up.statusCode ?? 502, Buffer.concat(chunks).toString('utf8'), up.headers));
  });
  request.on('error', (err) => res.destroy(err));
  request.end(body);
}

function send(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-elastic-product': 'Elasticsearch' });
  res.end(text);
}
