import type { Client } from '@elastic/elasticsearch';
import { uuidV5 } from '../record/identity.ts';
import type { RunRecord } from '../record/schema.ts';
import type { SourceDriver } from '../sources/types.ts';

export interface Location {
  root: string;
  path: string;
}

/** What the guard reads of a parsed run. */
export interface GuardedRun {
  run_id: string;
  source: Pick<RunRecord['source'], 'root' | 'path'>;
}

export interface IdentityGuard {
  /**
   * Decides the id a freshly parsed run is written under. A content identity already held by another
   * location that still exists is a copy: it gets its own id (v5 of the original id and its location)
   * and `copy_of`. If the other location is gone, the run moved, and keeps the id.
   */
  resolve(record: GuardedRun): Promise<{ runId: string; copyOf: string | null }>;
}

/** Ids written recently in this sync, with their locations (covers bulk items still in flight). */
const RECENT_IDS = 10_000;

/** Bloom filter bits for every id written in this sync: 2^25 bits = 4 MiB, ~0.1 % false positives at 1M ids. */
const BLOOM_BITS = 2 ** 25;
const BLOOM_HASHES = 7;

/** Ids per `_mget` and how long a lookup waits for company. */
const MGET_BATCH = 256;
const MGET_WAIT_MS = 5;

export function createIdentityGuard(opts: {
  client: Client;
  index: string;
  driverFor: (root: string) => SourceDriver | null;
  recentIds?: number;
  /**
   * The index held no run when this sync started: an id this sync did not write cannot be there, so only
   * ids the Bloom filter has seen are looked up (a first backfill then makes no lookup per run). A sync of
   * another source writing the same content identity at the same moment is not seen; the next sync sees it.
   */
  indexEmpty?: boolean;
}): IdentityGuard {
  const recentIds = opts.recentIds ?? RECENT_IDS;
  const recent = new Map<string, Location>();
  const bloom = new Uint8Array(BLOOM_BITS / 8);
  const lookup = createLocationLoader(opts.client, opts.index);
  // Runs are parsed concurrently: decisions about one id are serialised so two copies cannot both claim it.
  const inFlight = new Map<string, Promise<unknown>>();
  async function decide(record: GuardedRun): Promise<{ runId: string; copyOf: string | null }> {
    const here = { root: record.source.root, path: record.source.path };
    // Documents of earlier syncs are visible to a non-realtime GET (cheap: no refresh is forced, which
    // matters while a backfill runs with refresh off). An id written earlier in this sync may not be
    // refreshed yet: the Bloom filter says when that is possible, and only then is the GET realtime.
    const maybeWritten = bloomHas(bloom, record.run_id);
    const owner = recent.get(record.run_id) ?? (opts.indexEmpty && !maybeWritten ? null : await lookup(record.run_id, maybeWritten));
    let result = { runId: record.run_id, copyOf: null as string | null };
    if (owner && (owner.root !== here.root || owner.path !== here.path) && (await stillExists(opts.driverFor(owner.root), owner.path))) {
      result = { runId: uuidV5(`copy:${record.run_id}:${here.root}:${here.path}`), copyOf: record.run_id };
    }
    remember(recent, result.runId, here, recentIds);
    bloomAdd(bloom, result.runId);
    return result;
  }
  return {
    async resolve(record) {
      const previous = inFlight.get(record.run_id) ?? Promise.resolve();
      const next = previous.then(() => decide(record));
      const settled = next.catch(() => undefined);
      inFlight.set(record.run_id, settled);
      try {
        return await next;
      } finally {
        if (inFlight.get(record.run_id) === settled) {
          inFlight.delete(record.run_id);
        }
      }
    },
  };
}

// --- internal ---

type LocationLoader = (id: string, realtime: boolean) => Promise<Location | null>;

/** Batches id lookups into `_mget` requests (up to MGET_BATCH ids, or what arrived within a few ms): one round trip per batch, not per run. */
function createLocationLoader(client: Client, index: string): LocationLoader {
  let queue: Array<{ id: string; realtime: boolean; resolve: (l: Location | null) => void; reject: (e: unknown) => void }> = [];
  let timer: NodeJS.Timeout | undefined;
  async function flush(): Promise<void> {
    const batch = queue;
    queue = [];
    clearTimeout(timer);
    timer = undefined;
    for (const realtime of [false, true]) {
      const part = batch.filter((item) => item.realtime === realtime);
      if (part.length === 0) {
        continue;
      }
      try {
        // https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-mget
        const res = await client.mget<{ source?: { root?: string; path?: string }; state?: string }>({
          index,
          ids: part.map((p) => p.id),
          _source: ['source.root', 'source.path', 'state'],
          realtime,
        });
        res.docs.forEach((doc, i) => {
          const found = 'found' in doc && doc.found ? doc._source : undefined;
          const source = found?.state === 'vanished' ? undefined : found?.source;
          part[i]?.resolve(source ? { root: String(source.root), path: String(source.path ?? '') } : null);
        });
      } catch (err) {
        for (const item of part) {
          item.reject(err);
        }
      }
    }
  }
  return (id, realtime) =>
    new Promise((resolve, reject) => {
      queue.push({ id, realtime, resolve, reject });
      if (queue.length >= MGET_BATCH) {
        void flush();
      } else {
        timer ??= setTimeout(() => void flush(), MGET_WAIT_MS);
      }
    });
}

/** A location exists if its root is configured here and lists at least one file there; unknown roots count as existing (never merge two runs on a guess). */
async function stillExists(driver: SourceDriver | null, path: string): Promise<boolean> {
  if (!driver) {
    return true;
  }
  for await (const item of driver.list(path)) {
    if (!('kind' in item)) {
      return true;
    }
  }
  return false;
}

function remember(recent: Map<string, Location>, id: string, location: Location, max: number): void {
  recent.set(id, location);
  if (recent.size > max) {
    const oldest = recent.keys().next().value as string;
    recent.delete(oldest);
  }
}

function bloomPositions(id: string): number[] {
  // Double hashing (Kirsch–Mitzenmacher) over two FNV-1a variants of the id.
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  // `| 1` would make h2 a signed 32-bit int (negative positions, silently out of range): keep it unsigned.
  const step = (h2 | 1) >>> 0;
  return Array.from({ length: BLOOM_HASHES }, (_, k) => (h1 + k * step) % BLOOM_BITS);
}

function bloomAdd(bits: Uint8Array, id: string): void {
  for (const p of bloomPositions(id)) {
    bits[p >>> 3] = (bits[p >>> 3] ?? 0) | (1 << (p & 7));
  }
}

function bloomHas(bits: Uint8Array, id: string): boolean {
  return bloomPositions(id).every((p) => ((bits[p >>> 3] ?? 0) & (1 << (p & 7))) !== 0);
}
