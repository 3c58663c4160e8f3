import type { AppContext } from '../src/context.ts';
import { runSync } from '../src/sync/run.ts';

/** Nightly: a complete crawl of every source; runs that vanished are marked. */
export async function fullSync(ctx: AppContext): Promise<unknown> {
  return runSync(ctx, { mode: 'full' });
}
