import path from 'node:path';
import type { Config } from '../config/schema.ts';
import type { AppContext } from '../context.ts';
import { errorMessage } from '../errors.ts';
import { discoverRuns, type DiscoveredRun } from '../formats/discover.ts';
import { adapters } from '../formats/index.ts';
import { parseRun } from '../formats/parse-run.ts';
import type { RootInfo } from '../formats/types.ts';
import type { RunRecord } from '../record/schema.ts';
import { createFsDriver } from '../sources/drivers/fs.ts';
import { toRunDoc } from '../sync/doc.ts';
import { resolveOutboxDir, spool } from './outbox.ts';

export interface ReportOptions {
  /** The finished run's directory (absolute or relative to the cwd). */
  runDir: string;
  /** Overall budget in ms; past it we stop waiting for Elasticsearch and spool. Default 10 000. */
  deadlineMs?: number;
  /** Default `resolveOutboxDir(ctx.config)`. */
  outboxDir?: string;
}

export interface ReportResult {
  /** `indexed`: in the catalogue now; `spooled`: in the outbox for the next sync; `skipped`: nothing to record. */
  outcome: 'indexed' | 'spooled' | 'skipped';
  runId: string | null;
  /** The outbox file when spooled. */
  file: string | null;
  /** Problems met, for the one warning line the hook prints. */
  warnings: string[];
  ms: number;
}

/** A training script's post-run hook must not wait long on us. */
export const DEFAULT_REPORT_DEADLINE_MS = 10_000;

/** Root name of a run reported from outside every configured source. */
export const REPORT_ROOT = 'report';

/**
 * Parses one run directory and indexes it right away (`_id` = run_id, no refresh). Never throws: when
 * Elasticsearch is unreachable, slow or refuses, the record goes to the outbox for `flushOutbox`.
 */
export async function reportRun(ctx: AppContext, opts: ReportOptions): Promise<ReportResult> {
  const started = Date.now();
  const deadline = started + (opts.deadlineMs ?? DEFAULT_REPORT_DEADLINE_MS);
  const warnings: string[] = [];
  const done = (outcome: ReportResult['outcome'], runId: string | null, file: string | null = null): ReportResult => ({
    outcome,
    runId,
    file,
    warnings,
    ms: Date.now() - started,
  });

  let record: RunRecord | null;
  try {
    record = await withDeadline(parseOne(ctx, path.resolve(opts.runDir)), deadline);
  } catch (err) {
    warnings.push(`could not read ${opts.runDir}: ${errorMessage(err)}`);
    return done('skipped', null);
  }
  if (record === null) {
    warnings.push(`no training run recognised in ${opts.runDir}`);
    return done('skipped', null);
  }
  const index = ctx.config.indices.runs;
  // first_seen_at is now; a later sync keeps the indexed doc's value (see toRunDoc).
  const doc = { ...toRunDoc(record, { now: ctx.now(), firstSeenAt: null }) } satisfies Record<string, unknown>;
  try {
    await indexNow(ctx, index, record.run_id, doc, deadline);
    return done('indexed', record.run_id);
  } catch (err) {
    warnings.push(`Elasticsearch did not take the run (${errorMessage(err)}); spooled for the next sync`);
  }
  try {
    const file = await spool(opts.outboxDir ?? resolveOutboxDir(ctx.config), {
      version: 1,
      index,
      id: record.run_id,
      doc,
      spooled_at: ctx.now().toISOString(),
    });
    return done('spooled', record.run_id, file);
  } catch (err) {
    warnings.push(`could not spool to the outbox: ${errorMessage(err)}`);
    return done('skipped', record.run_id);
  }
}

/** Where a run directory is read from: the configured fs source that contains it, else its parent. */
export function resolveReportRoot(config: Config, runDir: string): { root: RootInfo; base: string; prefix: string; include: string[]; exclude: string[] } {
  for (const source of config.sources) {
    if (source.kind !== 'fs') {
      continue;
    }
    const rel = path.relative(source.path, runDir);
    if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) {
      return {
        root: { name: source.name, kind: 'fs', uri: source.path },
        base: source.path,
        prefix: rel.split(path.sep).join('/'),
        include: source.include,
        exclude: source.exclude,
      };
    }
  }
  const base = path.dirname(runDir);
  return { root: { name: REPORT_ROOT, kind: 'fs', uri: base }, base, prefix: path.basename(runDir), include: [], exclude: [] };
}

// --- internal ---

async function parseOne(ctx: AppContext, runDir: string): Promise<RunRecord | null> {
  const where = resolveReportRoot(ctx.config, runDir);
  const driver = createFsDriver({ root: where.base, include: where.include, exclude: where.exclude });
  let best: DiscoveredRun | null = null;
  for await (const item of discoverRuns(driver, where.prefix, adapters)) {
    if (item.kind !== 'run') {
      continue;
    }
    // Nested runs close first; the run dir itself, if it is a run, is the one to report.
    if (best === null || item.listing.dir === where.prefix) {
      best = item;
    }
  }
  return best === null ? null : parseRun(best, { driver, root: where.root, now: ctx.now() });
}

async function indexNow(ctx: AppContext, index: string, id: string, doc: Record<string, unknown>, deadline: number): Promise<void> {
  const budget = (): number => Math.max(1, deadline - Date.now());
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(budget())]);
  const transport = { maxRetries: 0, requestTimeout: budget(), signal };
  // A missing index would be auto-created with dynamic mappings; leave that to sync and spool instead.
  const exists = await ctx.client.indices.exists({ index }, transport);
  if (!exists) {
    throw new Error(`index ${index} does not exist yet`);
  }
  // https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-index
  await ctx.client.index({ index, id, document: doc, refresh: false }, { ...transport, requestTimeout: budget() });
}

async function withDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('deadline reached while reading the run')), Math.max(1, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
