import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A canned answer instead of forwarding: an S3 error document, or any body (e.g. a crafted list page). */
export interface FaultAnswer {
  status: number;
  /** S3 error code, rendered as an `<Error>` document. */
  code?: string;
  /** Raw XML body instead of an error document. */
  body?: string;
}

/**
 * The real answer, cut: its body ends after `share` (0–1) of its bytes. `drop`: the headers promise the whole
 * body and the connection drops mid-body; otherwise a complete response whose body just ends early.
 */
export interface CutAnswer {
  cut: number;
  drop?: boolean;
}

export interface SeenRequest {
  /** 1-based number of the request. */
  n: number;
  method: string;
  url: string;
  host: string;
  faulted: boolean;
}

export interface FaultProxy {
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of the real S3 server: `fault(n, req)` may answer request `n`
 * itself (throttling, 5xx, auth errors, malformed pages); every other request is forwarded untouched.
 */
export async function startFaultProxy(
  target: string,
  fault: (n: number, req: http.IncomingMessage) => FaultAnswer | CutAnswer | null = () => null,
  opts: { rewriteUrl?: (url: string) => string } = {},
): Promise<FaultProxy> {
  const upstream = new URL(target);
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const n = requests.length + 1;
    const answer = fault(n, req);
    requests.push({ n, method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', faulted: answer !== null });
    if (answer && 'cut' in answer) {
      forwardCut(upstream, req, res, answer, opts.rewriteUrl);
      return;
    }
    if (answer) {
      req.resume();
      const body = answer.body ?? errorXml(answer.code ?? 'InternalError');
      res.writeHead(answer.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const url = opts.rewriteUrl ? opts.rewriteUrl(req.url ?? '') : req.url;
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    forward.on('error', (err) => res.destroy(err));
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** True for a ListObjectsV2 request (`GET /bucket?list-type=2…`). */
export function isList(req: http.IncomingMessage | SeenRequest): boolean {
  return req.method === 'GET' && (req.url ?? '').includes('list-type=2');
}

/** Rewrites ListObjectsV2 requests to ask for `maxKeys` keys per page (S3Mock does not check signatures). */
export function pageSize(maxKeys: number): (url: string) => string {
  return (url) => (url.includes('list-type=2') ? `${url.replace(/&max-keys=\d+/, '')}&max-keys=${maxKeys}` : url);
}

// --- internal ---

function forwardCut(upstream: URL, req: http.IncomingMessage, res: http.ServerResponse, answer: CutAnswer, rewriteUrl?: (url: string) => string): void {
  const url = rewriteUrl ? rewriteUrl(req.url ?? '') : req.url;
  const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: url, headers: req.headers }, (up) => {
    const chunks: Buffer[] = [];
    up.on('data', (chunk: Buffer) => chunks.push(chunk));
    up.on('end', () => {
      const body = Buffer.concat(chunks);
      const kept = body.subarray(0, Math.floor(body.length * answer.cut));
      const { 'transfer-encoding': _chunked, 'content-length': _length, ...headers } = up.headers;
      res.writeHead(up.statusCode ?? 502, { ...headers, 'content-length': answer.drop ? body.length : kept.length });
      if (answer.drop) {
        res.write(kept, () => res.destroy());
        return;
      }
      res.end(kept);
    });
  });
  forward.on('error', (err) => res.destroy(err));
  req.pipe(forward);
}

function errorXml(code: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the test proxy</Message><RequestId>fault-proxy</RequestId></Error>`;
}
