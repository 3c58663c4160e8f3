import type { AppContext } from '../src/context.ts';
import { runSync } from '../src/sync/run.ts';

/** Hourly: picks up new and changed runs; vanish marking is the full sync's. */
export async function incrementalSync(ctx: AppContext): Promise<unknown> {
  return runSync(ctx, { mode: 'incremental' });
}
