import type { Config } from '../config/schema.ts';
import type { AppContext } from '../context.ts';
import { withLeases } from '../lease/lease-set.ts';
import type { SyncOptions } from './run.ts';

/**
 * One lease per source a sync crawls (`sync:<source>`), so syncs over disjoint sources run side by side
 * and overlapping ones exclude each other. A shard of a backfill leases `sync:<source>:shard-i-of-n`:
 * shards are disjoint from each other, and a scheduled sync may run next to a backfill (the backfill
 * registry keeps its index settings safe from that sync).
 */
export function syncLeaseKeys(config: Config, opts: Pick<SyncOptions, 'sources' | 'shard'>): string[] {
  const names = config.sources.map((s) => s.name).filter((name) => !opts.sources?.length || opts.sources.includes(name));
  const suffix = opts.shard ? `:shard-${opts.shard.index}-of-${opts.shard.count}` : '';
  return names.sort().map((name) => `sync:${name}${suffix}`);
}

/** Runs a sync under the leases of its sources; throws LeaseHeldError when another sync holds one. */
export async function withSyncLeases<T>(ctx: AppContext, opts: Pick<SyncOptions, 'sources' | 'shard'>, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return withLeases(ctx, syncLeaseKeys(ctx.config, opts), fn);
}
