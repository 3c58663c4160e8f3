import type { DiscoveredRun } from './discover.ts';
import { compareKeys } from '../sources/order.ts';
import type { DerivedStatus } from '../formats/kit/run-status.ts';
import { rederiveStatus } from './restatus.ts';
import type { IndexedRun } from './scan.ts';

/** A run folder as the crawl saw it, before any file is read. */
export interface CrawledRun {
  sortKey: string;
  fingerprint: string;
  /** Newest mtime of its files (epoch ms), for incremental `--since`. */
  newestMtime: number;
  run: DiscoveredRun;
}

/** `status-updated`: files unchanged, but the clock moved its time-dependent status (running → interrupted). */
/** `retired`: retention retired it; the sync keeps it out (found or not) until its files change. */
export type RunClass = 'new' | 'changed' | 'unchanged' | 'status-updated' | 'reappeared' | 'vanished' | 'still-vanished' | 'retired';

export interface PlannedAction {
  class: RunClass;
  crawled?: CrawledRun;
  indexed?: IndexedRun;
  /** Why a run is re-read: its files changed, or the parser that wrote it is older than this one. */
  reason?: 'fingerprint' | 'parser-version';
  /** The status re-derived from the stored evidence and this sync's clock, when it differs from the stored one. */
  status?: DerivedStatus;
}

export interface PlanOptions {
  parserVersion: string;
  /** This sync's clock, for re-deriving the status of unchanged runs. */
  now: Date;
}

/**
 * Merges the crawl and the index, both in reconcile order, into one action per run location.
 * Pure: no I/O, memory is one item of each stream. Runs present in both with the same fingerprint and
 * parser version are unchanged and cost nothing; a location only in the index is a vanish candidate
 * (the caller decides whether the listing was complete enough to act on it).
 */
export async function* planActions(crawl: AsyncIterable<CrawledRun>, indexed: AsyncIterable<IndexedRun>, opts: PlanOptions): AsyncGenerator<PlannedAction> {
  const left = crawl[Symbol.asyncIterator]();
  const right = indexed[Symbol.asyncIterator]();
  let a = await left.next();
  let b = await right.next();
  while (!a.done || !b.done) {
    if (b.done || (!a.done && compareKeys(a.value.sortKey, b.value.sort_key) < 0)) {
      yield { class: 'new', crawled: (a as IteratorYieldResult<CrawledRun>).value };
      a = await left.next();
      continue;
    }
    if (a.done || compareKeys(a.value.sortKey, b.value.sort_key) > 0) {
      yield vanishing(b.value);
      b = await right.next();
      continue;
    }
    const key = a.value.sortKey;
    yield matched(a.value, b.value, opts);
    a = await left.next();
    b = await right.next();
    // Several documents at one location (a run re-identified after its config changed): the extras are stale.
    while (!b.done && b.value.sort_key === key) {
      yield vanishing(b.value);
      b = await right.next();
    }
  }
}

export function matched(crawled: CrawledRun, indexed: IndexedRun, opts: PlanOptions): PlannedAction {
  if (indexed.state === 'retired') {
    // Retention's decision holds while the files are the same (a new parser is no reason to re-add it).
    return indexed.fingerprint === crawled.fingerprint ? { class: 'retired', crawled, indexed } : { class: 'changed', crawled, indexed, reason: 'fingerprint' };
  }
  if (indexed.fingerprint !== crawled.fingerprint) {
    return { class: indexed.state === 'vanished' ? 'reappeared' : 'changed', crawled, indexed, reason: 'fingerprint' };
  }
  if (indexed.parser_version !== opts.parserVersion) {
    return { class: indexed.state === 'vanished' ? 'reappeared' : 'changed', crawled, indexed, reason: 'parser-version' };
  }
  const status = rederiveStatus(indexed, crawled.newestMtime, opts.now);
  if (indexed.state === 'vanished') {
    return { class: 'reappeared', crawled, indexed, ...(status ? { status } : {}) };
  }
  return status ? { class: 'status-updated', crawled, indexed, status } : { class: 'unchanged', crawled, indexed };
}

// --- internal ---

function vanishing(indexed: IndexedRun): PlannedAction {
  if (indexed.state === 'retired') {
    return { class: 'retired', indexed };
  }
  return { class: indexed.state === 'vanished' ? 'still-vanished' : 'vanished', indexed };
}
