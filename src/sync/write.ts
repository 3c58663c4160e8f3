import type { Config } from '../config/schema.ts';
import { createBulkWriter, type BulkStats, type BulkWriter } from '../es/bulk.ts';
import type { RollupSpool } from '../rollups/spool.ts';
import { addError, type SyncReport } from './report.ts';

/**
 * The bulk writer of one source's run documents, tuned by `sync.bulk_*`. A recording rollup spool describes
 * whole documents only: any other write (a status update, a vanish mark) stops it.
 */
export function createRunWriter(client: Parameters<typeof createBulkWriter>[0]['client'], config: Config, spool?: RollupSpool): BulkWriter {
  const writer = createBulkWriter({
    client,
    index: config.indices.runs,
    flushBytes: config.sync.bulk_flush_bytes,
    concurrency: config.sync.bulk_concurrency,
    retries: config.sync.bulk_retries,
  });
  if (!spool) {
    return writer;
  }
  return {
    stats: writer.stats,
    flush: () => writer.flush(),
    add(op) {
      if (op.op !== 'index-bytes') {
        spool.poison(`the sync wrote an ${op.op} of ${op.id}`);
      }
      return writer.add(op);
    },
  };
}

/** Flushes the writer and adds what it wrote, refused and failed to the report. */
export async function flushRunWriter(writer: BulkWriter, report: SyncReport): Promise<BulkStats> {
  const bulkStart = Date.now();
  const stats = await writer.flush();
  report.durations_ms.bulk += Date.now() - bulkStart;
  report.counts.written += stats.written;
  report.counts.indexed += stats.indexed;
  report.counts.failed += stats.failed.length;
  for (const failure of stats.failed) {
    addError(report, { run_id: failure.id, code: `bulk-${failure.status}`, message: `${failure.type}: ${failure.reason}` });
  }
  // Refused documents were replaced by a parse_error document of the run (written, so not a failure).
  report.counts.parse_errors += stats.replaced.length;
  for (const refused of stats.replaced) {
    addError(report, { run_id: refused.id, code: 'rejected-by-engine', message: `${refused.type}: ${refused.reason}` });
  }
  return stats;
}
