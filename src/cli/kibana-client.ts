import { PipelineError, errorMessage } from '../errors.ts';

export interface KibanaConnection {
  /** Kibana base URL, e.g. `https://kibana.example:5601` (a base path is kept). */
  url: string;
  /** Space id; undefined or `default` targets the default space. */
  space?: string;
  /** `ApiKey <encoded>` or `Basic <base64>`; omitted for an open Kibana. */
  authorization?: string;
}

export interface ImportError {
  type: string;
  id: string;
  title?: string;
  error: { type: string; message?: string; statusCode?: number; references?: Array<{ type: string; id: string }> };
}

export interface ImportResult {
  success: boolean;
  successCount: number;
  successResults: Array<{ type: string; id: string; overwrite?: boolean; destinationId?: string }>;
  errors: ImportError[];
}

export interface ExportResult {
  /** NDJSON without the export-details line. */
  ndjson: string;
  exportedCount: number;
  missingReferences: Array<{ type: string; id: string }>;
}

/** Why a Kibana call failed, so the CLI can say what to do; tests assert on `reason`. */
export type KibanaFailureReason = 'auth' | 'forbidden' | 'version' | 'bad-request' | 'unreachable' | 'http';

export class KibanaError extends PipelineError {
  readonly reason: KibanaFailureReason;
  readonly status: number | null;

  constructor(reason: KibanaFailureReason, status: number | null, message: string, cause?: unknown) {
    super('kibana-request-failed', message, { cause });
    this.reason = reason;
    this.status = status;
  }
}

/** File name of the multipart part; Kibana rejects any extension but `.ndjson`. */
export const IMPORT_FILE_NAME = 'lora-catalog.ndjson';

/** Kibana's message when an object's version is newer than it knows (KIBANA.md §1.2, §1.5). */
const VERSION_MESSAGE = /more recent version of Kibana|unsupported version|migration|migrate|Invalid version/i;

/** `/api/...` or `/s/<space>/api/...` on the connection's base URL. */
export function kibanaApiUrl(conn: KibanaConnection, apiPath: string): string {
  const base = conn.url.replace(/\/+$/, '');
  const space = conn.space === undefined || conn.space === 'default' ? '' : `/s/${encodeURIComponent(conn.space)}`;
  return `${base}${space}${apiPath}`;
}

/**
 * Imports the NDJSON with overwrite (idempotent for fixed ids).
 * https://www.elastic.co/docs/api/doc/kibana/operation/operation-post-saved-objects-import
 */
export async function importSavedObjects(conn: KibanaConnection, ndjson: string): Promise<ImportResult> {
  const form = new FormData();
  form.append('file', new Blob([ndjson], { type: 'application/ndjson' }), IMPORT_FILE_NAME);
  const response = await send(conn, '/api/saved_objects/_import?overwrite=true', form);
  const body = (await readJson(response)) as Omit<Partial<ImportResult>, 'errors'> & { errors?: Array<ImportError & { meta?: { title?: string } }> };
  return {
    success: body.success === true,
    successCount: body.successCount ?? 0,
    successResults: body.successResults ?? [],
    errors: (body.errors ?? []).map((e) => ({ type: e.type, id: e.id, title: e.meta?.title ?? e.title, error: e.error })),
  };
}

/**
 * Exports the given objects (round trip of a deploy).
 * https://www.elastic.co/docs/api/doc/kibana/operation/operation-post-saved-objects-export
 */
export async function exportSavedObjects(conn: KibanaConnection, objects: Array<{ type: string; id: string }>): Promise<ExportResult> {
  const response = await send(conn, '/api/saved_objects/_export', JSON.stringify({ objects, includeReferencesDeep: false, excludeExportDetails: false }));
  const lines = (await response.text()).split('\n').filter((line) => line.trim() !== '');
  const kept: string[] = [];
  let details: { exportedCount?: number; missingReferences?: Array<{ type: string; id: string }> } = {};
  for (const line of lines) {
    const parsed = parseLine(line);
    if ('exportedCount' in parsed) {
      details = parsed as typeof details;
    } else {
      kept.push(line);
    }
  }
  return {
    ndjson: kept.length === 0 ? '' : `${kept.join('\n')}\n`,
    exportedCount: details.exportedCount ?? kept.length,
    missingReferences: details.missingReferences ?? [],
  };
}

/** Whether a per-object import error means Kibana wrote nothing at all (KIBANA.md §0.6). */
export function blocksWholeImport(error: ImportError): boolean {
  return ['conflict', 'ambiguous_conflict', 'missing_references'].includes(error.error.type);
}

// --- internal ---

async function send(conn: KibanaConnection, apiPath: string, body: FormData | string): Promise<Response> {
  const url = kibanaApiUrl(conn, apiPath);
  const headers: Record<string, string> = { 'kbn-xsrf': 'true' };
  if (conn.authorization !== undefined) {
    headers.authorization = conn.authorization;
  }
  if (typeof body === 'string') {
    headers['content-type'] = 'application/json';
  }
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body });
  } catch (err) {
    throw new KibanaError('unreachable', null, `[kibana] POST ${url}: cannot connect (${errorMessage(err)}); check --url`, err);
  }
  if (response.ok) {
    return response;
  }
  const text = await response.text();
  throw failure(url, response.status, kibanaMessage(text), conn);
}

function failure(url: string, status: number, upstream: string, conn: KibanaConnection): KibanaError {
  const where = `[kibana] POST ${url}: ${status} ${upstream}`;
  if (status === 401) {
    return new KibanaError(
      'auth',
      status,
      `${where}\nAuthentication failed: pass --api-key <encoded> (the "encoded" value of an API key) or --username/--password.`,
    );
  }
  if (status === 403) {
    return new KibanaError(
      'forbidden',
      status,
      `${where}\nThe user lacks privileges: it needs write access to saved objects (dashboard, lens, visualization, index-pattern) in space "${conn.space ?? 'default'}".`,
    );
  }
  if ((status === 400 || status === 422 || status === 500) && VERSION_MESSAGE.test(upstream)) {
    return new KibanaError(
      'version',
      status,
      `${where}\nVersion mismatch: the target Kibana could not migrate these objects. They are stamped for Kibana 8.19 and every 9.x (coreMigrationVersion 8.8.0); an older Kibana must be upgraded, a newer one may have changed the format (see KIBANA.md §2.2).`,
    );
  }
  if (status === 400 && /Error fetching objects/i.test(upstream)) {
    return new KibanaError('bad-request', status, `${where}\nSome objects do not exist in this space: run kibana deploy first.`);
  }
  return new KibanaError(status === 400 ? 'bad-request' : 'http', status, where);
}

/** Kibana error bodies are `{statusCode, error, message}`; fall back to the raw text. */
function kibanaMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: string; message?: string };
    return [parsed.error, parsed.message].filter((s) => typeof s === 'string' && s !== '').join(': ') || text.slice(0, 500);
  } catch {
    return text.slice(0, 500);
  }
}

async function readJson(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new KibanaError('http', response.status, `[kibana] ${response.url}: expected JSON, got ${text.slice(0, 200)}`, err);
  }
}

function parseLine(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch (err) {
    throw new KibanaError('http', 200, `[kibana] export returned a line that is not JSON: ${line.slice(0, 200)}`, err);
  }
}
