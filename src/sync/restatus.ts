import { deriveStatus, type DerivedStatus } from '../formats/kit/run-status.ts';
import type { StatusInputs } from '../record/schema.ts';
import type { SourceDriver } from '../sources/types.ts';

/** What re-deriving a status needs of an indexed run. */
export interface StoredStatus {
  status: string | null;
  status_inputs: StatusInputs | null;
}

/** Log files outside a run folder stat'ed before calling it stale; a run links one log folder, rarely more files. */
const MAX_EXTERNAL_STATS = 8;

/**
 * The status an unchanged run has now: its stored evidence judged with this sync's clock, the activity time moved up
 * to the newest mtime of the current listing when the evidence was file times. `null` when nothing changes or the run
 * has no stored evidence (parse errors, records of an older parser). Pure.
 */
export function rederiveStatus(stored: StoredStatus, newestMtime: number, now: Date): DerivedStatus | null {
  const inputs = stored.status_inputs;
  if (inputs === null) {
    return null;
  }
  const current =
    inputs.last_activity_source === 'mtime' && inputs.last_activity_at !== null && newestMtime > Date.parse(inputs.last_activity_at)
      ? { ...inputs, last_activity_at: new Date(newestMtime).toISOString() }
      : inputs;
  const derived = deriveStatus(current, now);
  return derived.status === stored.status ? null : derived;
}

/**
 * Checks a re-derived status against the run's logs outside its folder (kohya's `logging_dir`): they grow while the
 * folder itself may not change for an epoch. Only their mtimes are asked for (`stat`), never their content. Returns
 * the status to write, or null when the logs show the run is still as it was.
 */
export async function confirmStatus(
  driver: Pick<SourceDriver, 'stat'>,
  stored: StoredStatus,
  derived: DerivedStatus,
  now: Date,
): Promise<DerivedStatus | null> {
  const inputs = stored.status_inputs;
  if (inputs === null || inputs.external_logs.length === 0) {
    return derived;
  }
  let newest = inputs.last_activity_at === null ? 0 : Date.parse(inputs.last_activity_at);
  for (const key of inputs.external_logs.slice(0, MAX_EXTERNAL_STATS)) {
    const entry = await driver.stat(key).catch(() => null);
    newest = Math.max(newest, entry?.mtime ?? 0);
  }
  const again = deriveStatus({ ...inputs, last_activity_at: newest > 0 ? new Date(newest).toISOString() : null }, now);
  return again.status === stored.status ? null : again;
}
