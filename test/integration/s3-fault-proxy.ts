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
export async function startFaultProxy(target: string, fault: (n: number, req: http.IncomingMessage) => FaultAnswer | null = () => null): Promise<FaultProxy> {
  const upstream = new URL(target);
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const n = requests.length + 1;
    const answer = fault(n, req);
    requests.push({ n, method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', faulted: answer !== null });
    if (answer) {
      req.resume();
      const body = answer.body ?? errorXml(answer.code ?? 'InternalError');
      res.writeHead(answer.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
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

// --- internal ---

function errorXml(code: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the test proxy</Message><RequestId>fault-proxy</RequestId></Error>`;
}
