import type { Client, estypes } from '@elastic/elasticsearch';

export interface PitScanOptions {
  index: string;
  query?: estypes.QueryDslQueryContainer;
  /** Default `_shard_doc` (the cheapest total order). */
  sort?: estypes.Sort;
  _source?: estypes.SearchSourceConfig;
  /** Hits per page; memory is one page. Default 2000. */
  pageSize?: number;
  seqNoPrimaryTerm?: boolean;
  /** Default 5m: long enough for the slowest consumer of one page. */
  keepAlive?: string;
  /**
   * Read the snapshot as this many slices side by side (the engine fetches them on as many threads); pages then
   * arrive in no particular order, so only for consumers that do not need one. Default 1.
   */
  slices?: number;
}

/**
 * Every hit of a query as a consistent snapshot, a page at a time: point in time + search_after (the
 * minimal engine has no scroll-free alternative, and no _reindex/_delete_by_query to avoid it). The PIT
 * is closed when the consumer stops, early or not.
 */
export async function* scanPages<T>(client: Client, opts: PitScanOptions): AsyncGenerator<Array<estypes.SearchHit<T>>> {
  const keepAlive = opts.keepAlive ?? '5m';
  // https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-open-point-in-time
  const pit = { id: (await client.openPointInTime({ index: opts.index, keep_alive: keepAlive })).id };
  const slices = Math.max(1, opts.slices ?? 1);
  try {
    if (slices === 1) {
      yield* slicePages<T>(client, opts, pit, null);
    } else {
      yield* merged(Array.from({ length: slices }, (_, id) => slicePages<T>(client, opts, pit, { id, max: slices })));
    }
  } finally {
    await client.closePointInTime({ id: pit.id }, { ignore: [404] }).catch(() => undefined);
  }
}

// --- internal ---

/** One slice of the snapshot (or all of it), page by page; the next page is asked for as soon as a page arrives, so
 * the engine fetches it while the consumer works on this one (memory: two pages). */
async function* slicePages<T>(
  client: Client,
  opts: PitScanOptions,
  pit: { id: string },
  slice: { id: number; max: number } | null,
): AsyncGenerator<Array<estypes.SearchHit<T>>> {
  const keepAlive = opts.keepAlive ?? '5m';
  const size = opts.pageSize ?? 2000;
  const fetchPage = (after: estypes.SortResults | undefined) =>
    client.search<T>({
      pit: { id: pit.id, keep_alive: keepAlive },
      size,
      sort: opts.sort ?? [{ _shard_doc: 'asc' }],
      track_total_hits: false,
      ...(slice ? { slice: { id: String(slice.id), max: slice.max } } : {}),
      ...(opts.query ? { query: opts.query } : {}),
      ...(opts._source === undefined ? {} : { _source: opts._source }),
      ...(opts.seqNoPrimaryTerm ? { seq_no_primary_term: true } : {}),
      ...(after ? { search_after: after } : {}),
    });
  let pending: ReturnType<typeof fetchPage> | null = fetchPage(undefined);
  while (pending) {
    const page = await pending;
    pending = null;
    pit.id = page.pit_id ?? pit.id;
    const hits = page.hits.hits;
    if (hits.length === size) {
      pending = fetchPage(hits.at(-1)?.sort);
      // Not awaited until the consumer comes back; a failure then surfaces there (or is dropped with the scan).
      pending.catch(() => undefined);
    }
    if (hits.length > 0) {
      yield hits;
    }
  }
}

/** Items of several generators as each produces them; a failure of any ends the whole (the others are closed). */
async function* merged<T>(sources: Array<AsyncGenerator<T>>): AsyncGenerator<T> {
  const next = (i: number) => (sources[i] as AsyncGenerator<T>).next().then((result) => ({ i, result }));
  const waiting = new Map(sources.map((_, i) => [i, next(i)]));
  try {
    while (waiting.size > 0) {
      const { i, result } = await Promise.race(waiting.values());
      if (result.done) {
        waiting.delete(i);
        continue;
      }
      waiting.set(i, next(i));
      yield result.value;
    }
  } finally {
    for (const pending of waiting.values()) {
      pending.catch(() => undefined);
    }
    await Promise.all(sources.map((source) => source.return(undefined).catch(() => undefined)));
  }
}
