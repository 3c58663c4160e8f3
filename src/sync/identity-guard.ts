import type { Client } from '@elastic/elasticsearch';
import { uuidV5 } from '../record/identity.ts';
import type { RunRecord } from '../record/schema.ts';
import type { SourceDriver } from '../sources/types.ts';

export interface Location {
  root: string;
  path: string;
}

export interface IdentityGuard {
  /**
   * Decides the id a freshly parsed run is written under. A content identity already held by another
   * location that still exists is a copy: it gets its own id (v5 of the original id and its location)
   * and `copy_of`. If the other location is gone, the run moved, and keeps the id.
   */
  resolve(record: RunRecord): Promise<{ runId: string; copyOf: string | null }>;
}

/** Ids written recently in this sync; GET is realtime for indexed docs, this covers bulk items still in flight. */
const RECENT_IDS = 100_000;

export function createIdentityGuard(opts: { client: Client; index: string; driverFor: (root: string) => SourceDriver | null }): IdentityGuard {
  const recent = new Map<string, Location>();
  // Runs are parsed concurrently: decisions about one id are serialised so two copies cannot both claim it.
  const inFlight = new Map<string, Promise<unknown>>();
  async function decide(record: RunRecord): Promise<{ runId: string; copyOf: string | null }> {
    {
      const here = { root: record.source.root, path: record.source.path };
      const owner = recent.get(record.run_id) ?? (await indexedLocation(opts.client, opts.index, record.run_id));
      let result = { runId: record.run_id, copyOf: null as string | null };
      if (owner && (owner.root !== here.root || owner.path !== here.path) && (await stillExists(opts.driverFor(owner.root), owner.path))) {
        result = { runId: uuidV5(`copy:${record.run_id}:${here.root}:${here.path}`), copyOf: record.run_id };
      }
      remember(recent, result.runId, here);
      return result;
    }
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

async function indexedLocation(client: Client, index: string, id: string): Promise<Location | null> {
  const res = await client.get<{ source?: { root?: string; path?: string }; state?: string }>({ index, id, _source: ['source.root', 'source.path', 'state'] }, { ignore: [404] });
  const source = res.found ? res._source?.source : undefined;
  if (!source || res._source?.state === 'vanished') {
    return null;
  }
  return { root: String(source.root), path: String(source.path ?? '') };
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

function remember(recent: Map<string, Location>, id: string, location: Location): void {
  recent.set(id, location);
  if (recent.size > RECENT_IDS) {
    const oldest = recent.keys().next().value as string;
    recent.delete(oldest);
  }
}
