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
}

/**
 * Every hit of a query as a consistent snapshot, a page at a time: point in time + search_after (the
 * minimal engine has no scroll-free alternative, and no _reindex/_delete_by_query to avoid it). The PIT
 * is closed when the consumer stops, early or not.
 */
export async function* scanPages<T>(client: Client, opts: PitScanOptions): AsyncGenerator<Array<estypes.SearchHit<T>>> {
  const keepAlive = opts.keepAlive ?? '5m';
  const size = opts.pageSize ?? 2000;
  // https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-open-point-in-time
  let pitId = (await client.openPointInTime({ index: opts.index, keep_alive: keepAlive })).id;
  // The next page is asked for as soon as a page arrives, so the engine fetches it while the consumer works
  // on this one (memory: two pages).
  const fetchPage = (after: estypes.SortResults | undefined) =>
    client.search<T>({
      pit: { id: pitId, keep_alive: keepAlive },
      size,
      sort: opts.sort ?? [{ _shard_doc: 'asc' }],
      track_total_hits: false,
      ...(opts.query ? { query: opts.query } : {}),
      ...(opts._source === undefined ? {} : { _source: opts._source }),
      ...(opts.seqNoPrimaryTerm ? { seq_no_primary_term: true } : {}),
      ...(after ? { search_after: after } : {}),
    });
  let pending: ReturnType<typeof fetchPage> | null = fetchPage(undefined);
  try {
    while (pending) {
      const page = await pending;
      pending = null;
      pitId = page.pit_id ?? pitId;
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
  } finally {
    await client.closePointInTime({ id: pitId }, { ignore: [404] }).catch(() => undefined);
  }
}
