import type { AppContext } from '../../context.ts';
import type { RunRecord } from '../../record/schema.ts';
import { createDriverCache } from '../../sources/index.ts';
import { createIdentityGuard, type IdentityGuard } from '../identity-guard.ts';
import type { OutboxEntry } from './outbox-entry.ts';

/**
 * A spooled run doc was written without Elasticsearch, so its id is the parsed one. Before it is
 * indexed it gets what a sync would have given it: the id and `first_seen_at` of the document already
 * at its location, else the identity guard's decision (a copy of a run that still exists elsewhere
 * gets its own id and `copy_of`). Entries that are not run docs pass unchanged.
 */
export function createOutboxIdentity(ctx: AppContext): (entry: OutboxEntry) => Promise<OutboxEntry> {
  const drivers = createDriverCache(ctx.config.sources);
  const guards = new Map<string, IdentityGuard>();
  const guardFor = (index: string): IdentityGuard => {
    let guard = guards.get(index);
    if (!guard) {
      guard = createIdentityGuard({
        client: ctx.client,
        index,
        driverFor: (root) => drivers.get(root),
      });
      guards.set(index, guard);
    }
    return guard;
  };
  return async (entry) => {
    const source = (entry.doc.source ?? {}) as { root?: unknown; path?: unknown };
    if (typeof source.root !== 'string' || typeof source.path !== 'string' || typeof entry.doc.run_id !== 'string') {
      return entry;
    }
    // https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-search
    const res = await ctx.client.search<{ run_id: string; first_seen_at?: string }>({
      index: entry.index,
      size: 1,
      query: {
        bool: { filter: [{ term: { 'source.root': source.root } }, { term: { 'source.path': source.path } }], must_not: [{ term: { state: 'vanished' } }] },
      },
      _source: ['run_id', 'first_seen_at'],
    });
    const here = res.hits.hits[0]?._source;
    if (here) {
      return { ...entry, id: here.run_id, doc: { ...entry.doc, run_id: here.run_id, first_seen_at: here.first_seen_at ?? entry.doc.first_seen_at } };
    }
    const { runId, copyOf } = await guardFor(entry.index).resolve(entry.doc as unknown as RunRecord);
    return { ...entry, id: runId, doc: { ...entry.doc, run_id: runId, copy_of: copyOf } };
  };
}
