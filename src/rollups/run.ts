import type { Client, estypes } from '@elastic/elasticsearch';
import type { AppContext } from '../context.ts';
import { scanPages } from '../es/pit.ts';
import { createBulkWriter, type BulkWriter } from '../es/bulk.ts';
import { BucketAccumulator, ROLLUP_RUN_FIELDS, runEpochDocs, type RollupRun } from './compute.ts';

export interface RollupOptions {
  /** Bucket keys touched by a sync (`rank:8`, `run:<id>`…); absent or `['*']` = recompute everything. */
  touched?: string[];
}

export interface RollupReport {
  mode: 'full' | 'incremental';
  buckets: number;
  runEpochDocs: number;
  deleted: number;
  written: number;
  failed: number;
  durationMs: number;
}

/** Page size of the run scans; memory is one page plus the accumulators. */
const PAGE = 2000;

/**
 * Recomputes rollups into the rollup index with deterministic ids, so a recomputation replaces
 * instead of duplicating. Incremental mode recomputes only the touched buckets (reading the runs of
 * each bucket by its key); full mode streams every active run once. Both produce the same documents.
 */
export async function runRollups(ctx: AppContext, opts: RollupOptions = {}): Promise<RollupReport> {
  const started = Date.now();
  const { client, config } = ctx;
  const now = ctx.now();
  const writer = createBulkWriter({ client, index: config.indices.rollups, flushBytes: config.sync.bulk_flush_bytes, concurrency: 1, retries: config.sync.bulk_retries });
  const full = !opts.touched || opts.touched.includes('*');
  const report: RollupReport = { mode: full ? 'full' : 'incremental', buckets: 0, runEpochDocs: 0, deleted: 0, written: 0, failed: 0, durationMs: 0 };
  if (full) {
    const stale = await collectIds(client, config.indices.rollups, { match_all: {} });
    const accumulators = new Map<string, BucketAccumulator>();
    for await (const run of scanRuns(client, config.indices.runs, { term: { state: 'active' } })) {
      for (const key of run.rollup_keys) {
        let acc = accumulators.get(key);
        if (!acc) {
          acc = new BucketAccumulator(key);
          accumulators.set(key, acc);
        }
        acc.add(run);
      }
      for (const { id, doc } of runEpochDocs(run, now)) {
        stale.delete(id);
        report.runEpochDocs += 1;
        await writer.add({ op: 'index', id, doc });
      }
    }
    for (const acc of accumulators.values()) {
      stale.delete(acc.key);
      report.buckets += 1;
      await writer.add({ op: 'index', id: acc.key, doc: acc.toDoc(now) });
    }
    report.deleted += await deleteIds(writer, stale);
  } else {
    for (const key of opts.touched ?? []) {
      if (key.startsWith('run:')) {
        const runId = key.slice(4);
        const stale = await collectIds(client, config.indices.rollups, { term: { key } });
        for await (const run of scanRuns(client, config.indices.runs, { bool: { filter: [{ term: { run_id: runId } }, { term: { state: 'active' } }] } })) {
          for (const { id, doc } of runEpochDocs(run, now)) {
            stale.delete(id);
            report.runEpochDocs += 1;
            await writer.add({ op: 'index', id, doc });
          }
        }
        report.deleted += await deleteIds(writer, stale);
        continue;
      }
      const acc = new BucketAccumulator(key);
      let any = false;
      for await (const run of scanRuns(client, config.indices.runs, { bool: { filter: [{ term: { rollup_keys: key } }, { term: { state: 'active' } }] } })) {
        acc.add(run);
        any = true;
      }
      if (any) {
        report.buckets += 1;
        await writer.add({ op: 'index', id: key, doc: acc.toDoc(now) });
      } else {
        report.deleted += await deleteIds(writer, new Set([key]));
      }
    }
  }
  const stats = await writer.flush();
  await client.indices.refresh({ index: config.indices.rollups });
  report.written = stats.written;
  report.failed = stats.failed.length;
  report.durationMs = Date.now() - started;
  return report;
}

// --- internal ---

type ScannedRun = RollupRun & { rollup_keys: string[] };

async function* scanRuns(client: Client, index: string, query: estypes.QueryDslQueryContainer): AsyncGenerator<ScannedRun> {
  await client.indices.refresh({ index });
  for await (const hits of scanPages<ScannedRun>(client, { index, query, _source: [...ROLLUP_RUN_FIELDS, 'rollup_keys'], pageSize: PAGE, keepAlive: '2m' })) {
    for (const hit of hits) {
      const src = hit._source as ScannedRun;
      yield { ...src, loss_per_epoch: src.loss_per_epoch ?? [], rollup_keys: src.rollup_keys ?? [] };
    }
  }
}

/** Ids of existing rollup docs matching a query (to delete the ones a recomputation no longer produces). */
async function collectIds(client: Client, index: string, query: estypes.QueryDslQueryContainer): Promise<Set<string>> {
  const ids = new Set<string>();
  if (!(await client.indices.exists({ index }))) {
    return ids;
  }
  await client.indices.refresh({ index });
  for await (const hits of scanPages(client, { index, query, _source: false, pageSize: PAGE, keepAlive: '2m' })) {
    for (const hit of hits) {
      ids.add(hit._id as string);
    }
  }
  return ids;
}

async function deleteIds(writer: BulkWriter, ids: Set<string>): Promise<number> {
  for (const id of ids) {
    await writer.add({ op: 'delete', id });
  }
  return ids.size;
}
