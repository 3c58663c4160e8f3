import { hash } from 'node:crypto';
import { errorMessage } from '../../../errors.ts';
import type { ParseContext } from '../../types.ts';
import { keyOf } from './listing.ts';

/** Files a run may carry its own id in (first line, a UUID somewhere in it). */
const RUN_ID_FILES = ['run_id', 'run_id.txt', 'RUN_ID'] as const;

/** The text of a `run_id` file at the run root, for `identity.explicit`; the core extracts the UUID. */
export async function readRunIdFile(ctx: ParseContext): Promise<string | null> {
  for (const name of RUN_ID_FILES) {
    if (!ctx.listing.names.includes(name)) {
      continue;
    }
    try {
      return (await ctx.readText(keyOf(ctx.listing, name), 4096))?.trim() || null;
    } catch (err) {
      ctx.warn(`${name}: ${errorMessage(err)}`);
    }
  }
  return null;
}

/** Short stable digest of identity evidence. */
export function digest(...parts: readonly unknown[]): string {
  return hash('sha256', JSON.stringify(parts), 'hex').slice(0, 32);
}

/** ISO time of epoch milliseconds, or null. */
export function isoOf(ms: number | null): string | null {
  return ms === null || !Number.isFinite(ms) ? null : new Date(ms).toISOString();
}
