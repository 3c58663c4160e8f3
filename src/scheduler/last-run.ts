import type { Client } from '@elastic/elasticsearch';
import { ensureLeaseIndex } from '../lease/lease.ts';

/** The last successful run of a scheduled job, as the scheduler's catch-up reads it. */
export interface LastRun {
  job: string;
  owner: string;
  startedAt: Date;
  finishedAt: Date;
}

/**
 * `last_run:<job>` docs live in the leases index and reuse its strict mapping: `acquired_at` is when
 * the successful run started (the slot it covered), `renewed_at` when it finished. No `expires_at`:
 * the doc never expires and is not a lease (its id cannot collide with a job name, which has no colon).
 */
export const LAST_RUN_PREFIX = 'last_run:';

/** `first_start:<job>`: when a scheduler first ran with this job; slots before it were never missed. */
export const FIRST_START_PREFIX = 'first_start:';

/**
 * The time catch-up counts missed slots from: the last successful run, else the scheduler's first
 * start. With neither, this start is the first: recorded (the earliest writer wins) and null returned.
 */
export async function catchUpBaseline(client: Client, index: string, job: string, now: Date): Promise<Date | null> {
  const last = await readLastRun(client, index, job);
  if (last) {
    return last.startedAt;
  }
  const id = `${FIRST_START_PREFIX}${job}`;
  const res = await client.get<{ acquired_at: string }>({ index, id }, { ignore: [404] });
  if (res.found && res._source) {
    return new Date(res._source.acquired_at);
  }
  const at = now.toISOString();
  // https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-create
  await client.create({ index, id, document: { job, owner: 'scheduler', acquired_at: at, renewed_at: at }, refresh: false }, { ignore: [409] });
  return null;
}

export async function readLastRun(client: Client, index: string, job: string): Promise<LastRun | null> {
  await ensureLeaseIndex(client, index);
  // https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-get
  const res = await client.get<{ job: string; owner: string; acquired_at: string; renewed_at: string }>(
    { index, id: `${LAST_RUN_PREFIX}${job}` },
    { ignore: [404] },
  );
  if (!res.found || !res._source) {
    return null;
  }
  const doc = res._source;
  return { job, owner: doc.owner, startedAt: new Date(doc.acquired_at), finishedAt: new Date(doc.renewed_at) };
}

/** Records a successful run; a later start never moves the record back (two writers: the newest start wins). */
export async function writeLastRun(client: Client, index: string, run: LastRun): Promise<void> {
  await ensureLeaseIndex(client, index);
  const current = await readLastRun(client, index, run.job);
  if (current && current.startedAt.getTime() > run.startedAt.getTime()) {
    return;
  }
  await client.index({
    index,
    id: `${LAST_RUN_PREFIX}${run.job}`,
    document: { job: run.job, owner: run.owner, acquired_at: run.startedAt.toISOString(), renewed_at: run.finishedAt.toISOString() },
    refresh: false,
  });
}
