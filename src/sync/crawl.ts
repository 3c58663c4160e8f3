import type { AppContext } from '../context.ts';
import type { SourceConfig } from '../config/schema.ts';
import { adapters } from '../formats/index.ts';
import { listingFingerprint } from '../record/identity.ts';
import { createDriver } from '../sources/index.ts';
import { compareKeys, runSortKey } from '../sources/order.ts';
import type { SourceDriver } from '../sources/types.ts';
import { discoverRuns, SHARD_BUCKETS } from './discover.ts';
import type { SyncOptions } from './options.ts';
import type { CrawledRun } from './plan.ts';
import type { SourceReport } from './report.ts';
import type { ScanOptions } from './scan.ts';

/** One source's crawl as a sync runs it: its driver, its report (listing warnings), and the runs it lists. */
export interface SourceCrawl {
  driver: SourceDriver;
  sourceReport: SourceReport;
  runs: AsyncGenerator<CrawledRun>;
}

/** Starts listing a source's runs: the whole root, or an incremental sync's prefixes, in its shard's buckets. */
export function openCrawl(source: SourceConfig, opts: SyncOptions, log: AppContext['log']): SourceCrawl {
  // The crawl lists a whole root: worth a listing thread (the parsers' short listings are not).
  const driver = createDriver(source, { longListings: true });
  const sourceReport: SourceReport = { name: source.name, kind: source.kind, complete: true, runs: 0, warnings: 0, error: null };
  return { driver, sourceReport, runs: crawlRuns(driver, crawlPrefixes(opts) ?? [''], opts, sourceReport, log) };
}

/** The prefixes an incremental sync was given, in reconcile order; undefined for a whole root. */
export function crawlPrefixes(opts: SyncOptions): string[] | undefined {
  return opts.mode === 'incremental' && opts.prefixes?.length ? sortPrefixes(opts.prefixes) : undefined;
}

/** What of the runs index a sync of `source` merges with: its root, in the sync's prefixes and shard buckets. */
export function sourceScanOptions(runsIndex: string, source: SourceConfig, opts: SyncOptions): ScanOptions {
  const prefixes = crawlPrefixes(opts);
  const buckets = shardBuckets(opts.shard);
  return { index: runsIndex, root: source.name, ...(prefixes ? { prefixes } : {}), ...(buckets ? { buckets } : {}) };
}

/** The runs under each prefix, in reconcile order, with their listing fingerprint; listing warnings make the source incomplete. */
export async function* crawlRuns(
  driver: SourceDriver,
  prefixes: string[],
  opts: SyncOptions,
  sourceReport: SourceReport,
  log: AppContext['log'],
): AsyncGenerator<CrawledRun> {
  for (const prefix of prefixes) {
    for await (const item of discoverRuns(driver, prefix, adapters, opts.shard ? { shard: opts.shard } : {})) {
      if (item.kind === 'warning') {
        sourceReport.warnings += 1;
        sourceReport.complete = false;
        log.warn({ key: item.key, code: item.code, detail: item.message }, 'Listing warning');
        continue;
      }
      const newestMtime = item.listing.entries.reduce((max, e) => Math.max(max, e.mtime), 0);
      yield { sortKey: runSortKey(item.listing.dir), fingerprint: listingFingerprint(item.listing.dir, item.listing.entries), newestMtime, run: item };
    }
  }
}

/** The shard buckets a sharded sync owns (all when not sharded). */
export function shardBuckets(shard: SyncOptions['shard']): number[] | undefined {
  return shard ? Array.from({ length: SHARD_BUCKETS }, (_, b) => b).filter((b) => b % shard.count === shard.index) : undefined;
}

/** Incremental prefixes without slashes at either end, deduplicated, in reconcile order. */
export function sortPrefixes(prefixes: string[]): string[] {
  return [...new Set(prefixes.map((p) => p.replace(/^\/+|\/+$/g, '')))].sort((a, b) => compareKeys(runSortKey(a), runSortKey(b)));
}
