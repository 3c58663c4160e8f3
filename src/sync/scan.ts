import type { Client, estypes } from '@elastic/elasticsearch';
import { scanPages } from '../es/pit.ts';
import { StatusInputs } from '../record/schema.ts';

/** What reconcile needs of an indexed run; the rest of the document stays in the index. */
export interface IndexedRun {
  run_id: string;
  sort_key: string;
  path: string;
  fingerprint: string;
  parser_version: string;
  state: 'active' | 'vanished' | 'retired';
  first_seen_at: string | null;
  missing_since: string | null;
  rollup_keys: string[];
  status: string | null;
  /** The evidence the status was derived from, for re-deriving it without reading the run; null when absent or unreadable. */
  status_inputs: StatusInputs | null;
  /** Optimistic-concurrency token: a mark written with it fails if the document changed since the scan. */
  seq_no: number;
  primary_term: number;
}

export interface ScanOptions {
  index: string;
  root: string;
  /** Only runs under these path prefixes (incremental mode). */
  prefixes?: string[];
  /** Only runs in these shard buckets (sharded backfill). */
  buckets?: number[];
  /** Page size; memory is one page. Default 2000. */
  pageSize?: number;
}

const SCAN_FIELDS = [
  'run_id',
  'sort_key',
  'source.path',
  'fingerprint',
  'parser_version',
  'state',
  'first_seen_at',
  'missing_since',
  'rollup_keys',
  'status',
  'status_inputs',
];

/**
 * Streams the indexed runs of one root in reconcile order (sort_key ascending) with a point in time
 * and search_after, so the listing is a consistent snapshot and memory stays at one page.
 */
export async function* scanIndexedRuns(client: Client, opts: ScanOptions): AsyncGenerator<IndexedRun> {
  const exists = await client.indices.exists({ index: opts.index });
  if (!exists) {
    return;
  }
  const pages = scanPages<Record<string, unknown>>(client, {
    index: opts.index,
    query: scanQuery(opts),
    _source: SCAN_FIELDS,
    seqNoPrimaryTerm: true,
    sort: [{ sort_key: 'asc' }, { state: 'asc' }, { _shard_doc: 'asc' }],
    ...(opts.pageSize ? { pageSize: opts.pageSize } : {}),
  });
  for await (const hits of pages) {
    for (const hit of hits) {
      yield toIndexedRun(hit);
    }
  }
}

/** Active runs of a root (for the mass-vanish guard and the empty-listing check). */
export async function countActiveRuns(client: Client, opts: ScanOptions): Promise<number> {
  const exists = await client.indices.exists({ index: opts.index });
  if (!exists) {
    return 0;
  }
  const res = await client.count({ index: opts.index, query: { bool: { filter: [scanQuery(opts), { term: { state: 'active' } }] } } });
  return res.count;
}

/** Documents of the scanned runs in any state (0 when the index does not exist yet); one attempt, no retries. */
export async function countIndexedRuns(client: Client, opts: ScanOptions): Promise<number> {
  const res = await client.count({ index: opts.index, ignore_unavailable: true, query: scanQuery(opts) }, { maxRetries: 0 });
  return res.count;
}

// --- internal ---

function scanQuery(opts: ScanOptions): estypes.QueryDslQueryContainer {
  const filter: estypes.QueryDslQueryContainer[] = [{ term: { 'source.root': opts.root } }];
  if (opts.prefixes && opts.prefixes.length > 0) {
    filter.push({
      bool: {
        should: opts.prefixes.flatMap((p) => [{ term: { 'source.path': p } }, { prefix: { 'source.path': `${p}/` } }]),
        minimum_should_match: 1,
      },
    });
  }
  if (opts.buckets) {
    filter.push({ terms: { shard_bucket: opts.buckets } });
  }
  return { bool: { filter } };
}

function toIndexedRun(hit: estypes.SearchHit<Record<string, unknown>>): IndexedRun {
  const src = hit._source ?? {};
  const source = (src.source ?? {}) as { path?: string };
  return {
    run_id: String(src.run_id ?? hit._id),
    sort_key: String(src.sort_key ?? ''),
    path: String(source.path ?? ''),
    fingerprint: String(src.fingerprint ?? ''),
    parser_version: String(src.parser_version ?? ''),
    state: src.state === 'vanished' || src.state === 'retired' ? src.state : 'active',
    first_seen_at: typeof src.first_seen_at === 'string' ? src.first_seen_at : null,
    missing_since: typeof src.missing_since === 'string' ? src.missing_since : null,
    rollup_keys: Array.isArray(src.rollup_keys) ? src.rollup_keys.map(String) : [],
    status: typeof src.status === 'string' ? src.status : null,
    status_inputs: StatusInputs.safeParse(src.status_inputs).data ?? null,
    seq_no: hit._seq_no ?? 0,
    primary_term: hit._primary_term ?? 0,
  };
}
