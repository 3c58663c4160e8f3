import type { AppContext } from '../context.ts';
import { withLease, type WithLeaseOptions } from './lease.ts';

/**
 * Runs fn while holding every lease in `jobs`. They are taken in sorted order (two callers over
 * overlapping sets cannot deadlock or both half-succeed) and released in reverse; when one is held
 * elsewhere, the ones already taken are released and its LeaseHeldError is thrown.
 */
export async function withLeases<T>(
  ctx: AppContext,
  jobs: readonly string[],
  fn: (signal: AbortSignal) => Promise<T>,
  opts: WithLeaseOptions = {},
): Promise<T> {
  const sorted = [...new Set(jobs)].sort();
  return nested(ctx, sorted, fn, opts);
}

// --- internal ---

async function nested<T>(ctx: AppContext, jobs: readonly string[], fn: (signal: AbortSignal) => Promise<T>, opts: WithLeaseOptions): Promise<T> {
  const [first, ...rest] = jobs;
  if (first === undefined) {
    return fn(ctx.signal);
  }
  return withLease(ctx, first, async (signal) => nested({ ...ctx, signal }, rest, fn, opts), opts);
}
