import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { errors } from '@elastic/elasticsearch';
import { Json } from '../../text/json.ts';
import { readEngineEnv } from '../../config/env.ts';
import type { Config } from '../../config/schema.ts';
import type { AppContext } from '../../context.ts';
import { enginePathsFromEnv } from '../../engine/paths.ts';
import { errorMessage, PipelineError } from '../../errors.ts';
import { OutboxEntry } from './outbox-entry.ts';
import { createOutboxIdentity } from './outbox-identity.ts';
import { writeStamp } from '../../rollups/keys.ts';

export { OutboxEntry } from './outbox-entry.ts';

export interface FlushOptions {
  /** Default `resolveOutboxDir(ctx.config)`. */
  dir?: string;
  /** Documents per bulk request. Default 500. */
  batchSize?: number;
}

export interface FlushReport {
  dir: string;
  /** Indexed and deleted from the outbox. */
  flushed: number;
  /** Still in the outbox (bulk item failed); retried by the next flush. */
  failed: number;
  /** Unreadable files, renamed to `*.corrupt` and left for a human. */
  corrupt: number;
  errors: { id: string; reason: string }[];
}

/** Default documents per bulk request; spooled run docs are a few KiB each. */
const DEFAULT_BATCH = 500;

/** A claimed file older than this belongs to a flusher that died; it is claimed again. */
const STALE_CLAIM_MS = 5 * 60_000;

const EntryJson = Json.pipe(OutboxEntry);

/** `config.outbox_dir`, else `<state dir>/outbox`. */
export function resolveOutboxDir(config: Config): string {
  if (config.outbox_dir) {
    return path.resolve(config.outbox_dir);
  }
  const env = readEngineEnv();
  return path.join(enginePathsFromEnv(env).stateDir, 'outbox');
}

/**
 * Writes an entry atomically (temp file, fsync, rename): a reader sees the whole file or none. One file
 * per document id, so a newer report of the same run replaces the older one.
 */
export async function spool(dir: string, entry: OutboxEntry): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${safeName(entry.id)}.json`);
  const temp = path.join(dir, `.${safeName(entry.id)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(JSON.stringify(entry));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
  return file;
}

/**
 * Bulk-indexes the spooled documents and deletes each file only after its bulk item succeeded. Files
 * are claimed by rename first, so a concurrent flush or a newer spool of the same run never loses one.
 */
export async function flushOutbox(ctx: AppContext, opts: FlushOptions = {}): Promise<FlushReport> {
  const dir = opts.dir ?? resolveOutboxDir(ctx.config);
  const report: FlushReport = { dir, flushed: 0, failed: 0, corrupt: 0, errors: [] };
  const names = await listCandidates(dir);
  const size = opts.batchSize ?? DEFAULT_BATCH;
  for (let i = 0; i < names.length; i += size) {
    if (ctx.signal.aborted) {
      break;
    }
    const claims = (await Promise.all(names.slice(i, i + size).map(async (name) => claim(dir, name, report)))).filter((c) => c !== null);
    if (claims.length > 0) {
      await flushBatch(ctx, claims, report);
    }
  }
  if (report.flushed + report.failed + report.corrupt > 0) {
    ctx.log.info({ dir, flushed: report.flushed, failed: report.failed, corrupt: report.corrupt }, 'Outbox flushed');
  }
  return report;
}

// --- internal ---

interface Claim {
  /** The `<id>.json` name it had (and gets back on failure). */
  original: string;
  claimed: string;
  entry: OutboxEntry;
}

function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}

async function listCandidates(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') {
      return [];
    }
    throw new PipelineError('storage-read-failed', `[outbox] list ${dir}: ${errorMessage(err)}`, { cause: err });
  }
  const out: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) {
      continue;
    }
    if (name.endsWith('.json')) {
      out.push(name);
    } else if (name.endsWith('.flushing')) {
      const info = await stat(path.join(dir, name)).catch(() => null);
      if (info && Date.now() - info.mtimeMs > STALE_CLAIM_MS) {
        out.push(name);
      }
    }
  }
  return out;
}

async function claim(dir: string, name: string, report: FlushReport): Promise<Claim | null> {
  const original = name.endsWith('.json') ? name : name.replace(/\.\d+-[0-9a-f]{8}\.flushing$/, '.json');
  const claimed = `${original.slice(0, -'.json'.length)}.${process.pid}-${randomBytes(4).toString('hex')}.flushing`;
  try {
    await rename(path.join(dir, name), path.join(dir, claimed));
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') {
      return null;
    }
    throw err;
  }
  const parsed = EntryJson.safeParse(await readFile(path.join(dir, claimed), 'utf8'));
  if (!parsed.success) {
    report.corrupt += 1;
    await rename(path.join(dir, claimed), path.join(dir, `${original}.corrupt`));
    return null;
  }
  return { original, claimed, entry: parsed.data };
}

async function flushBatch(ctx: AppContext, claims: Claim[], report: FlushReport): Promise<void> {
  const dir = report.dir;
  // Indexing into a missing index would auto-create it with dynamic mappings: wait for sync to create it.
  const missing = new Set<string>();
  for (const index of new Set(claims.map((c) => c.entry.index))) {
    if (!(await ctx.client.indices.exists({ index }).catch(() => true))) {
      missing.add(index);
    }
  }
  for (const c of claims.filter((c) => missing.has(c.entry.index))) {
    report.failed += 1;
    report.errors.push({ id: c.entry.id, reason: `index ${c.entry.index} does not exist yet` });
    await unclaim(dir, c);
  }
  claims = claims.filter((c) => !missing.has(c.entry.index));
  if (claims.length === 0) {
    return;
  }
  try {
    const resolve = createOutboxIdentity(ctx);
    for (const c of claims) {
      c.entry = await resolve(c.entry);
    }
  } catch (err) {
    await Promise.all(claims.map(async (c) => unclaim(dir, c)));
    throw new PipelineError('es-unreachable', `[outbox] identity of ${claims.length} spooled docs: ${errorMessage(err)}`, { cause: err });
  }
  let items;
  try {
    // https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-bulk
    const res = await ctx.client.bulk({
      // A run doc is stamped when it reaches the index, not when it was spooled: rollups look for writes since their watermark.
      operations: claims.flatMap((c) => [
        { index: { _index: c.entry.index, _id: c.entry.id } },
        'rollup_stamp' in c.entry.doc ? { ...c.entry.doc, rollup_stamp: writeStamp() } : c.entry.doc,
      ]),
      refresh: false,
    });
    items = res.items;
  } catch (err) {
    await Promise.all(claims.map(async (c) => unclaim(dir, c)));
    const code = err instanceof errors.ConnectionError || err instanceof errors.TimeoutError ? 'es-unreachable' : 'bulk-failed';
    throw new PipelineError(code, `[outbox] bulk of ${claims.length} spooled docs: ${errorMessage(err)}`, { cause: err });
  }
  for (const [i, c] of claims.entries()) {
    const result = items[i]?.index;
    if (result && result.status >= 200 && result.status < 300) {
      await unlink(path.join(dir, c.claimed));
      report.flushed += 1;
      continue;
    }
    report.failed += 1;
    report.errors.push({ id: c.entry.id, reason: `${result?.status ?? '?'} ${result?.error?.type ?? ''}: ${result?.error?.reason ?? ''}` });
    await unclaim(dir, c);
  }
}

/** Puts a claimed file back, unless a newer spool of the same document took its name meanwhile. */
async function unclaim(dir: string, c: Claim): Promise<void> {
  const claimed = path.join(dir, c.claimed);
  try {
    // link, unlike rename, fails instead of replacing a newer file that took the name meanwhile.
    await link(claimed, path.join(dir, c.original));
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') {
      throw err;
    }
  }
  await unlink(claimed);
}
