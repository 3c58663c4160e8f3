import type { AppContext } from '../context.ts';
import type { SourceConfig } from '../config/schema.ts';
import { openCrawl, sourceScanOptions, type SourceCrawl } from './crawl.ts';
import type { SyncOptions } from './options.ts';
import type { ParsedRun, ParsePool } from './parse-pool.ts';
import type { CrawledRun } from './plan.ts';
import { countIndexedRuns } from './scan.ts';

/**
 * How far ahead a first load reads: runs listed, the bytes of their documents and the files of their listings
 * (a run with thousands of checkpoint files holds them all until the merge takes it) held in memory at most.
 */
export const AHEAD_LIMITS: AheadLimits = { runs: 4096, bytes: 32 << 20, entries: 1 << 17 };

export interface AheadLimits {
  runs: number;
  bytes: number;
  entries: number;
}

/**
 * A first load's head start. Before it merges anything, a sync spends a second or more in round trips
 * (templates, index creation, settings, the index scan) while the parse workers sit idle. When the runs
 * index holds no run of a source, every run its listing yields will be new, and a new run is read the same
 * way whatever the index says (no `first_seen_at` to keep): so the source's first runs are listed and read
 * meanwhile, and the merge takes their documents when it reaches them. Anything the merge does not plan as
 * new (a run written by someone else in between) is read again as usual.
 */
export interface HeadStart {
  source: string;
  /** The clock the runs were read with, which the source's sync goes on with. */
  now: Date;
  /** Hands the crawl over to the source's sync: the runs listed ahead first, then the rest of the listing. */
  takeCrawl(): SourceCrawl;
  /** The read of a run listed ahead, once; only valid for a run planned as new. */
  takeRead(run: CrawledRun): Promise<ParsedRun> | undefined;
  /** Stops reading ahead; disposes of the driver unless the crawl was handed over. */
  close(): Promise<void>;
}

interface HeadStartInput {
  ctx: AppContext;
  source: SourceConfig;
  opts: SyncOptions;
  parser: ParsePool;
  /** Reads in flight at once (`sync.parse_concurrency`). */
  concurrency: number;
  /** How far ahead to read (AHEAD_LIMITS unless given). */
  limits?: AheadLimits;
}

/** Starts reading ahead when the runs index holds no run of the source (in the sync's prefixes and shard), else null. */
export async function startHeadStart(input: HeadStartInput): Promise<HeadStart | null> {
  const { ctx, source, opts } = input;
  const indexed = await countIndexedRuns(ctx.client, sourceScanOptions(ctx.config.indices.runs, source, opts));
  if (indexed > 0) {
    return null;
  }
  ctx.log.debug({ source: source.name }, 'The runs index holds no run of this source: reading its first runs while the indices are set up');
  return readAhead(input);
}

// --- internal ---

function readAhead({ ctx, source, opts, parser, concurrency, limits = AHEAD_LIMITS }: HeadStartInput): HeadStart {
  const crawl = openCrawl(source, opts, ctx.log);
  const now = ctx.now();
  const listing = crawl.runs;
  const listed: CrawledRun[] = [];
  const reads = new Map<CrawledRun, Promise<ParsedRun>>();
  const inFlight = new Set<Promise<void>>();
  let bytes = 0;
  let entries = 0;
  let ended = false;
  let failure: { err: unknown } | null = null;
  let stopped = false;
  let wake: () => void = () => {};
  const stopping = new Promise<void>((resolve) => (wake = resolve));
  const stop = () => {
    stopped = true;
    wake();
  };
  const mayGoOn = () => !stopped && !ctx.signal.aborted && listed.length < limits.runs && bytes < limits.bytes && entries < limits.entries;

  const loop = (async () => {
    while (mayGoOn()) {
      while (inFlight.size >= concurrency && !stopped) {
        await Promise.race([...inFlight, stopping]);
      }
      if (!mayGoOn()) {
        return;
      }
      const next = await listing.next();
      if (next.done) {
        ended = true;
        return;
      }
      const run = next.value;
      listed.push(run);
      entries += run.run.listing.entries.length;
      // Whether the rollup spool records is known only once the indices are set up: the view is read if it may.
      const read = parser.parse(source, run.run, { now, firstSeenAt: null, rollupView: opts.rollupSpool !== undefined });
      const settled: Promise<void> = read.then(
        (parsed) => void (bytes += parsed.doc.byteLength + (parsed.rollupView?.byteLength ?? 0)),
        () => undefined,
      );
      inFlight.add(settled);
      // A failed read surfaces where the merge takes it (or nowhere, when the merge does not plan the run as new).
      void settled.finally(() => inFlight.delete(settled));
      reads.set(run, read);
    }
  })().catch((err: unknown) => {
    // A listing error: replayed after the runs listed before it, where the source's sync would have met it.
    failure = { err };
  });

  async function* replay(): AsyncGenerator<CrawledRun> {
    stop();
    await loop;
    try {
      for (let i = 0; i < listed.length; i++) {
        yield listed[i] as CrawledRun;
      }
      listed.length = 0;
      if (failure) {
        throw (failure as { err: unknown }).err;
      }
      if (!ended) {
        yield* listing;
      }
    } finally {
      await listing.return(undefined);
    }
  }

  let handedOver = false;
  return {
    source: source.name,
    now,
    takeCrawl() {
      handedOver = true;
      return { ...crawl, runs: replay() };
    },
    takeRead(run) {
      const read = reads.get(run);
      reads.delete(run);
      return read;
    },
    async close() {
      stop();
      await loop;
      reads.clear();
      if (!handedOver) {
        await listing.return(undefined);
        await crawl.driver.dispose?.();
      }
    },
  };
}
