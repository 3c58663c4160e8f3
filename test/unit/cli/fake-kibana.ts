import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeKibana {
  url: string;
  requests: RecordedRequest[];
  /** Stored objects per space: `space -> "type:id" -> object`. */
  store: Map<string, Map<string, Record<string, unknown>>>;
  /** When set, answers every request with this status and JSON body instead of imitating Kibana. */
  failWith: { status: number; body: unknown } | null;
  /** When set, the import answers 200 with this body (per-object errors). */
  importResponse: unknown;
  close: () => Promise<void>;
}

/**
 * A protocol imitation of Kibana's saved-objects import/export routes as KIBANA.md §1 documents them
 * (kbn-xsrf check, `.ndjson` check, `/s/<space>` prefix, overwrite, sorted-key export with a details line).
 * It tests our client's requests and error handling; it is not Kibana.
 */
export async function startFakeKibana(): Promise<FakeKibana> {
  const fake: FakeKibana = { url: '', requests: [], store: new Map(), failWith: null, importResponse: null, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      fake.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const reply = (status: number, payload: unknown, type = 'application/json'): void => {
        res.writeHead(status, { 'content-type': type });
        res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
      };
      if (fake.failWith !== null) {
        reply(fake.failWith.status, fake.failWith.body);
        return;
      }
      if (req.method !== 'POST' || req.headers['kbn-xsrf'] === undefined) {
        reply(400, { statusCode: 400, error: 'Bad Request', message: 'Request must contain a kbn-xsrf header.' });
        return;
      }
      const match = /^(?:\/s\/([a-z0-9_-]+))?\/api\/saved_objects\/(_import|_export)(\?.*)?$/.exec(req.url ?? '');
      const space = match?.[1] ?? 'default';
      const objects = fake.store.get(space) ?? new Map<string, Record<string, unknown>>();
      fake.store.set(space, objects);
      if (match?.[2] === '_import') {
        handleImport(fake, req.headers, body, match[3] ?? '', objects, reply);
      } else if (match?.[2] === '_export') {
        handleExport(body, objects, reply);
      } else {
        reply(404, { statusCode: 404, error: 'Not Found', message: 'Not Found' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = async () => new Promise<void>((resolve) => server.close(() => resolve()));
  return fake;
}

/** The parts of a multipart/form-data body: name, filename, content. */
export function parseMultipart(contentType: string | undefined, body: string): Array<{ name: string; filename: string | null; content: string }> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType ?? '');
  const marker = boundary?.[1] ?? boundary?.[2];
  if (marker === undefined) {
    return [];
  }
  return body
    .split(`--${marker}`)
    .slice(1, -1)
    .map((raw) => {
      const [head = '', ...rest] = raw.replace(/^\r\n/, '').split('\r\n\r\n');
      return {
        name: /name="([^"]*)"/.exec(head)?.[1] ?? '',
        filename: /filename="([^"]*)"/.exec(head)?.[1] ?? null,
        content: rest.join('\r\n\r\n').replace(/\r\n$/, ''),
      };
    });
}

// --- internal ---

type Reply = (status: number, payload: unknown, type?: string) => void;

function handleImport(
  fake: FakeKibana,
  headers: IncomingHttpHeaders,
  body: string,
  query: string,
  objects: Map<string, Record<string, unknown>>,
  reply: Reply,
): void {
  const file = parseMultipart(headers['content-type'], body).find((p) => p.name === 'file');
  if (file === undefined || file.filename === null || !file.filename.endsWith('.ndjson')) {
    reply(400, { statusCode: 400, error: 'Bad Request', message: `Invalid file extension ${file?.filename ?? ''}` });
    return;
  }
  if (fake.importResponse !== null) {
    reply(200, fake.importResponse);
    return;
  }
  const lines = file.content
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const overwrite = new URLSearchParams(query.replace(/^\?/, '')).get('overwrite') === 'true';
  const successResults = lines.map((o) => {
    const key = `${String(o.type)}:${String(o.id)}`;
    const existed = objects.has(key);
    if (!existed || overwrite) {
      objects.set(key, o);
    }
    return { type: o.type, id: o.id, meta: { title: (o.attributes as { title?: string }).title }, managed: false, ...(existed ? { overwrite: true } : {}) };
  });
  reply(200, { success: true, successCount: successResults.length, successResults });
}

function handleExport(body: string, objects: Map<string, Record<string, unknown>>, reply: Reply): void {
  const request = JSON.parse(body) as { objects: Array<{ type: string; id: string }> };
  const missing = request.objects.filter((o) => !objects.has(`${o.type}:${o.id}`));
  if (missing.length > 0) {
    reply(400, { statusCode: 400, error: 'Bad Request', message: 'Error fetching objects to export', attributes: { objects: missing } });
    return;
  }
  const lines = request.objects.map((o) => JSON.stringify(objects.get(`${o.type}:${o.id}`)));
  const details = { excludedObjects: [], excludedObjectsCount: 0, exportedCount: lines.length, missingRefCount: 0, missingReferences: [] };
  reply(200, [...lines, JSON.stringify(details)].join('\n'), 'application/ndjson');
}
