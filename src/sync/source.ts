import type { AppContext } from '../context.ts';
import { durationMs, type SourceConfig } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import { createPool } from '../pool.ts';
import { PARSER_VERSION } from '../record/schema.ts';
import { createApplier } from './apply.ts';
import { openCrawl, sourceScanOptions } from './crawl.ts';
import type { HeadStart } from './head-start.ts';
import type { IdentityGuard } from './identity-guard.ts';
import type { SyncOptions } from './options.ts';
import type { ParsePool } from './parse-pool.ts';
import { planActions } from './plan.ts';
import type { SourceReport, SyncReport } from './report.ts';
import { countActiveRuns, scanIndexedRuns, type IndexedRun } from './scan.ts';
import { applyVanishMarks } from './vanish.ts';
import { createRunWriter, flushRunWriter } from './write.ts';

/** Parsed runs waiting for their identity check and bulk write (their documents are in memory: bounded). */
const SETTLE_CONCURRENCY = 256;

/** What the sources of one sync share. */
export interface SyncShared {
  guard: IdentityGuard;
  parser: ParsePool;
  /** Runs of one source listed and read while the indices were set up (head-start.ts). */
  headStart?: HeadStart | null;
}

/** Syncs one source: crawl, merge with its indexed runs (plan), apply each action, mark what vanished, flush. */
export async function syncSource(ctx: AppContext, source: SourceConfig, opts: SyncOptions, report: SyncReport, shared: SyncShared): Promise<SourceReport> {
  const { config, client, log } = ctx;
  const headStart = shared.headStart?.source === source.name ? shared.headStart : null;
  const { driver, sourceReport, runs: crawl } = headStart?.takeCrawl() ?? openCrawl(source, opts, log);
  const scanOpts = sourceScanOptions(config.indices.runs, source, opts);
  const activeBefore = await countActiveRuns(client, scanOpts);
  const writer = createRunWriter(client, config, opts.rollupSpool);
  // Only a full listing of a whole root can tell that a run is gone.
  const marksVanished = opts.mode === 'full' && !opts.prefixes?.length;
  const vanishMarks: IndexedRun[] = [];
  const now = headStart?.now ?? ctx.now();
  const pool = createPool(config.sync.parse_concurrency);
  const settle = createPool(SETTLE_CONCURRENCY);
  const apply = createApplier({
    source,
    opts,
    report,
    driver,
    writer,
    parser: shared.parser,
    guard: shared.guard,
    headStart,
    pool,
    settle,
    now,
    marksVanished,
    vanishMarks,
  });
  const startedMs = Date.now();
  let lastProgress = 0;

  const indexed = scanIndexedRuns(client, scanOpts);
  try {
    for await (const action of planActions(crawl, indexed, { parserVersion: PARSER_VERSION, now })) {
      if (ctx.signal.aborted) {
        report.status = 'aborted';
        sourceReport.complete = false;
        break;
      }
      if (action.crawled) {
        report.counts.found += 1;
        sourceReport.runs += 1;
      }
      await apply(action);
      if (opts.onProgress && Date.now() - lastProgress > 1000) {
        lastProgress = Date.now();
        opts.onProgress({
          source: source.name,
          found: sourceReport.runs,
          written: writer.stats.written,
          expected: activeBefore,
          elapsedMs: Date.now() - startedMs,
        });
      }
    }
  } catch (err) {
    sourceReport.complete = false;
    sourceReport.error = errorMessage(err);
    log.error({ source: source.name, err }, 'Source listing failed; nothing will be marked vanished');
  }
  await pool.drain();
  await settle.drain();
  report.durations_ms.list += Date.now() - startedMs;

  if (marksVanished) {
    if (sourceReport.complete && sourceReport.runs === 0 && activeBefore > 0) {
      sourceReport.complete = false;
      sourceReport.error = `listed empty but the catalogue holds ${activeBefore} active runs of this root (stale mount or wrong path?); nothing marked vanished`;
    }
    const vanishStart = Date.now();
    await applyVanishMarks(ctx, {
      source,
      sourceReport,
      report,
      opts,
      activeBefore,
      vanishMarks,
      writer,
      graceMs: durationMs(config.sync.vanish_grace),
      now,
    });
    report.durations_ms.vanish += Date.now() - vanishStart;
  }
  await flushRunWriter(writer, report);
  await driver.dispose?.();
  return sourceReport;
}
