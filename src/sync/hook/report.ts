import type { AppContext } from '../../context.ts';
import { errorMessage } from '../../errors.ts';
import type { SourceConfig } from '../../config/schema.ts';
import { uuidV5 } from '../../record/identity.ts';
import { createParsePool, decodeDoc, encodeDoc, type ParsePool } from '../parse-pool.ts';
import { runSync } from '../run.ts';
import { resolveOutboxDir, spool } from './outbox.ts';
import { readReportedRun, type ReadRun } from './report-read.ts';
import { resolveReportSource } from './report-source.ts';

export interface ReportOptions {
  /** The finished run's directory (absolute or relative to the cwd). */
  runDir: string;
  /** Overall budget in ms; past it we stop waiting for Elasticsearch and spool. Default 10 000. */
  deadlineMs?: number;
  /** Absolute deadline (epoch ms), when the caller started the clock earlier (the CLI: before loading the config). */
  deadlineAt?: number;
  /** Default `resolveOutboxDir(ctx.config)`. */
  outboxDir?: string;
}

export interface ReportResult {
  /** `indexed`: in the catalogue now (write acknowledged); `spooled`: in the outbox for the next sync; `skipped`: nothing to record. */
  outcome: 'indexed' | 'spooled' | 'skipped';
  runId: string | null;
  /** The source the run was recorded under (a configured one, or `report:<dir>` outside every source). */
  source: string | null;
  /** The outbox file when spooled. */
  file: string | null;
  /** Problems met, for the warning lines the hook prints. */
  warnings: string[];
  ms: number;
}

/** A training script's post-run hook must not wait long on us. */
export const DEFAULT_REPORT_DEADLINE_MS = 10_000;

/** Kept back from the deadline for spooling, closing the client and the process ending: a tenth of it, 150 ms to 1 s. */
function reserveMs(deadlineMs: number): number {
  return Math.min(1000, Math.max(150, Math.round(deadlineMs / 10)));
}

/**
 * Reads one run directory and records it the way a sync would (same source membership, identity
 * guard, copy/move rules, `first_seen_at` kept): a one-directory incremental sync of the source that
 * contains it. Never throws and never outlasts the deadline: when Elasticsearch is unreachable, slow
 * or refuses, the record goes to the outbox for `flushOutbox`.
 */
export async function reportRun(ctx: AppContext, opts: ReportOptions): Promise<ReportResult> {
  const started = Date.now();
  const deadlineAt = opts.deadlineAt ?? started + (opts.deadlineMs ?? DEFAULT_REPORT_DEADLINE_MS);
  const warnings: string[] = [];
  const workUntil = deadlineAt - reserveMs(deadlineAt - started);
  const where = resolveReportSource(ctx.config, opts.runDir);
  const done = (outcome: ReportResult['outcome'], runId: string | null, file: string | null = null): ReportResult => ({
    outcome,
    runId,
    source: outcome === 'skipped' ? null : where.source.name,
    file,
    warnings,
    ms: Date.now() - started,
  });
  if (where.adHoc) {
    warnings.push(
      `${where.source.path} is outside every configured source: recorded under the ad-hoc source ${where.source.name} (no sync lists it, so it is never marked vanished)`,
    );
  }

  let read: ReadRun | null;
  try {
    read = await readReportedRun(where.source, where.prefix, ctx.now(), workUntil, warnings);
  } catch (err) {
    warnings.push(`could not read ${opts.runDir}: ${errorMessage(err)}`);
    return done('skipped', null);
  }
  if (read === null) {
    warnings.push(`no training run recognised in ${opts.runDir}`);
    return done('skipped', null);
  }

  try {
    const runId = await syncOne(ctx, where.source, where.prefix, read, workUntil);
    return done('indexed', runId);
  } catch (err) {
    warnings.push(`Elasticsearch did not take the run (${errorMessage(err)}); spooled for the next sync`);
  }
  const index = ctx.config.indices.runs;
  const doc = decodeDoc(read.parsed);
  try {
    // One outbox file per location (a copy has the same content id as its original); the flush gives it its real id.
    const id = uuidV5(`outbox:${doc.source.root}:${doc.source.path}`);
    const file = await spool(opts.outboxDir ?? resolveOutboxDir(ctx.config), {
      version: 1,
      index,
      id,
      doc: doc as unknown as Record<string, unknown>,
      spooled_at: ctx.now().toISOString(),
    });
    return done('spooled', doc.run_id, file);
  } catch (err) {
    warnings.push(`could not spool to the outbox: ${errorMessage(err)}`);
    return done('skipped', doc.run_id);
  }
}

// --- internal ---

/**
 * The sync path for one directory, bounded: every request of a client whose timeout ends at the
 * deadline, no retries, and the sync aborted at the deadline. Returns the run's id once Elasticsearch
 * acknowledged it (or already held it unchanged); throws otherwise.
 */
async function syncOne(ctx: AppContext, source: SourceConfig, prefix: string, read: ReadRun, deadlineAt: number): Promise<string> {
  const remaining = (): number => Math.max(1, deadlineAt - Date.now());
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(remaining())]);
  const client = ctx.client.child({ requestTimeout: remaining(), maxRetries: 0 });
  const config = ctx.config.sources.some((s) => s.name === source.name) ? ctx.config : { ...ctx.config, sources: [...ctx.config.sources, source] };
  const ids = new Map<string, string>();
  const parser = preparedParser(read);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('deadline reached')), remaining());
  });
  try {
    const sync = runSync(
      { ...ctx, client, config, signal },
      {
        mode: 'incremental',
        sources: [source.name],
        ...(prefix ? { prefixes: [prefix] } : {}),
        parser,
        onRun: (runId, cls) => ids.set(runId, cls),
      },
    );
    sync.catch(() => undefined);
    const report = await Promise.race([sync, late]);
    if (report.status !== 'ok') {
      throw new Error(report.errors[0]?.message ?? `sync ${report.status}`);
    }
    // The run itself is the doc whose fingerprint is the one read; nested runs may come along.
    const own = read.parsed.runId;
    const runId = [...ids.keys()].find((id) => id === own) ?? [...ids.keys()][0];
    if (runId === undefined) {
      throw new Error('the sync did not find the run');
    }
    return runId;
  } finally {
    clearTimeout(timer);
    await parser.close();
  }
}

/** A parse pool that answers with the record already read for the reported run, and reads nested runs in-process. */
function preparedParser(read: ReadRun): ParsePool {
  let rest: ParsePool | null = null;
  return {
    async parse(source, run, opts) {
      if (run.listing.dir === read.run.listing.dir) {
        // Read before the sync knew the run's document: keep the first sighting it already has.
        return opts.firstSeenAt === null ? read.parsed : { ...read.parsed, doc: encodeDoc({ ...decodeDoc(read.parsed), first_seen_at: opts.firstSeenAt }) };
      }
      rest ??= createParsePool({ sources: [source], workers: 0 });
      return rest.parse(source, run, opts);
    },
    async close() {
      await rest?.close();
    },
  };
}
