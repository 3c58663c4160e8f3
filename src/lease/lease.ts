import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { errors, type Client } from '@elastic/elasticsearch';
import { durationMs } from '../config/schema.ts';
import type { AppContext } from '../context.ts';
import { ensureIndex } from '../es/indices.ts';
import { errorMessage, PipelineError } from '../errors.ts';
import { raceAbortGrace, settleWithin } from './timing.ts';

/** A lease we hold: the seq_no/primary_term of our last write are the proof for renew and release. */
export interface Lease {
  index: string;
  job: string;
  owner: string;
  acquiredAt: Date;
  expiresAt: Date;
  seqNo: number;
  primaryTerm: number;
}

export type AcquireResult = { ok: true; lease: Lease; takeover: boolean } | { ok: false; holder: string; expiresAt: Date };

export interface AcquireOptions {
  job: string;
  owner: string;
  /** Lease lifetime in milliseconds; the holder must renew before it ends. */
  ttlMs: number;
  now: Date;
}

export interface WithLeaseOptions {
  /** Lease lifetime; default `config.schedule.lease_ttl`. Renewed every ttl/3. */
  ttlMs?: number;
  /** Default `leaseOwner()`. */
  owner?: string;
  /** After ctx.signal aborts, how long fn may take to finish before the lease is released anyway. Default 3000 ms. */
  abortGraceMs?: number;
}

/** Shape of a lease document (leasesMappings). */
interface LeaseDoc {
  job: string;
  owner: string;
  acquired_at: string;
  renewed_at: string;
  expires_at: string;
}

/** Bounded retries for the create → 404-on-get race (the holder released between our create and get). */
const ACQUIRE_ATTEMPTS = 3;

/** How long a release waits for a renewal in flight; past it the release may miss and the lease expires instead. */
const RENEWAL_WAIT_MS = 2000;

/** Default grace after abort: SIGTERM must end the process within seconds, leases released. */
const DEFAULT_ABORT_GRACE_MS = 3000;

/** Another owner holds the lease: says who and until when (a SIGKILLed holder blocks until its expiry). */
export class LeaseHeldError extends PipelineError {
  readonly job: string;
  readonly holder: string;
  readonly expiresAt: Date;

  constructor(job: string, holder: string, expiresAt: Date, now: Date) {
    const left = Math.max(0, Math.ceil((expiresAt.getTime() - now.getTime()) / 1000));
    super('lease-held', `lease ${job} held by ${holder} until ${expiresAt.toISOString()} (${left} s from now)`);
    this.job = job;
    this.holder = holder;
    this.expiresAt = expiresAt;
  }
}

/** `host:pid:random`: unique per acquisition site, readable in the leases index when debugging a stuck job. */
export function leaseOwner(): string {
  return `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** Creates the leases index with its strict mapping if it does not exist (idempotent, race-safe). */
export async function ensureLeaseIndex(client: Client, index: string): Promise<void> {
  if (ensured.get(client)?.has(index)) {
    return;
  }
  await ensureIndex(client, index, 'leases');
  const set = ensured.get(client) ?? new Set<string>();
  set.add(index);
  ensured.set(client, set);
}

/**
 * Takes the lease for `job`: creates the doc atomically (`op_type: create`, 409 = held); a held but
 * expired lease is taken over with optimistic concurrency, so of two takers only one write succeeds.
 */
export async function acquireLease(client: Client, index: string, opts: AcquireOptions): Promise<AcquireResult> {
  await ensureLeaseIndex(client, index);
  const doc = leaseDoc(opts.job, opts.owner, opts.now, opts.ttlMs, opts.now);
  for (let attempt = 0; attempt < ACQUIRE_ATTEMPTS; attempt += 1) {
    try {
      // https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-create
      const res = await client.create({ index, id: opts.job, document: doc, refresh: false });
      return { ok: true, takeover: false, lease: toLease(index, doc, res._seq_no, res._primary_term) };
    } catch (err) {
      if (!isStatus(err, 409)) {
        throw requestFailed(`create lease ${opts.job}`, err);
      }
    }
    // GET is realtime: it sees the current version even before a refresh.
    const current = await client.get<LeaseDoc>({ index, id: opts.job }, { ignore: [404] });
    if (!current.found || !current._source) {
      continue;
    }
    const held = current._source;
    if (Date.parse(held.expires_at) >= opts.now.getTime()) {
      return { ok: false, holder: held.owner, expiresAt: new Date(held.expires_at) };
    }
    try {
      const res = await client.index({
        index,
        id: opts.job,
        document: doc,
        if_seq_no: current._seq_no,
        if_primary_term: current._primary_term,
        refresh: false,
      });
      return { ok: true, takeover: true, lease: toLease(index, doc, res._seq_no, res._primary_term) };
    } catch (err) {
      if (isStatus(err, 409)) {
        return { ok: false, holder: '(another taker)', expiresAt: new Date(opts.now.getTime() + opts.ttlMs) };
      }
      throw requestFailed(`take over lease ${opts.job}`, err);
    }
  }
  return { ok: false, holder: '(contended)', expiresAt: opts.now };
}

/** Extends our lease. Returns the new lease, or null when it is no longer ours (taken over or deleted). */
export async function renewLease(client: Client, lease: Lease, opts: { ttlMs: number; now: Date }): Promise<Lease | null> {
  const doc = leaseDoc(lease.job, lease.owner, lease.acquiredAt, opts.ttlMs, opts.now);
  try {
    const res = await client.index({
      index: lease.index,
      id: lease.job,
      document: doc,
      if_seq_no: lease.seqNo,
      if_primary_term: lease.primaryTerm,
      refresh: false,
    });
    return toLease(lease.index, doc, res._seq_no, res._primary_term);
  } catch (err) {
    if (isStatus(err, 409) || isStatus(err, 404)) {
      return null;
    }
    throw requestFailed(`renew lease ${lease.job}`, err);
  }
}

/** Deletes our lease if it is still ours. Returns false when someone else holds it now (nothing deleted). */
export async function releaseLease(client: Client, lease: Lease): Promise<boolean> {
  try {
    await client.delete({ index: lease.index, id: lease.job, if_seq_no: lease.seqNo, if_primary_term: lease.primaryTerm, refresh: false });
    return true;
  } catch (err) {
    if (isStatus(err, 409) || isStatus(err, 404)) {
      return false;
    }
    throw requestFailed(`release lease ${lease.job}`, err);
  }
}

/**
 * Runs fn while holding the lease for `job`: renews every ttl/3, aborts fn's signal when the lease is
 * lost, releases in `finally`. Throws PipelineError('lease-held') when another owner holds it.
 */
export async function withLease<T>(
  ctx: AppContext,
  job: string,
  fn: (signal: AbortSignal, lease: Lease) => Promise<T>,
  opts: WithLeaseOptions = {},
): Promise<T> {
  const ttlMs = opts.ttlMs ?? durationMs(ctx.config.schedule.lease_ttl);
  const index = ctx.config.indices.leases;
  const result = await acquireLease(ctx.client, index, { job, owner: opts.owner ?? leaseOwner(), ttlMs, now: ctx.now() });
  if (!result.ok) {
    throw new LeaseHeldError(job, result.holder, result.expiresAt, ctx.now());
  }
  let lease = result.lease;
  const inner = new AbortController();
  const onOuterAbort = (): void => inner.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onOuterAbort, { once: true });
  if (ctx.signal.aborted) {
    onOuterAbort();
  }
  // The release must use the seq_no of the last renewal, so it waits for one still in flight.
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      renewing = renewLease(ctx.client, lease, { ttlMs, now: ctx.now() }).then(
        (renewed) => {
          if (renewed) {
            lease = renewed;
            return;
          }
          ctx.log.error({ job }, 'Lease lost');
          inner.abort(new PipelineError('lease-held', `[lease] ${job} was taken over by another owner`));
        },
        (err: unknown) => {
          // A transient ES error: keep the job going, unless the lease has run out meanwhile.
          ctx.log.warn({ job, err }, 'Lease renewal failed');
          if (ctx.now().getTime() >= lease.expiresAt.getTime()) {
            inner.abort(new PipelineError('lease-held', `[lease] ${job} expired while renewals failed`, { cause: err }));
          }
        },
      );
    },
    Math.max(10, Math.floor(ttlMs / 3)),
  );
  try {
    return await raceAbortGrace(fn(inner.signal, lease), ctx.signal, opts.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS);
  } finally {
    clearInterval(timer);
    ctx.signal.removeEventListener('abort', onOuterAbort);
    await settleWithin(renewing, RENEWAL_WAIT_MS);
    try {
      await releaseLease(ctx.client, lease);
    } catch (err) {
      ctx.log.warn({ job, err }, 'Lease release failed');
    }
  }
}

// --- internal ---

const ensured = new WeakMap<Client, Set<string>>();

function leaseDoc(job: string, owner: string, acquiredAt: Date, ttlMs: number, now: Date): LeaseDoc {
  return {
    job,
    owner,
    acquired_at: acquiredAt.toISOString(),
    renewed_at: now.toISOString(),
    expires_at: new Date(now.getTime() + ttlMs).toISOString(),
  };
}

function toLease(index: string, doc: LeaseDoc, seqNo: number | undefined, primaryTerm: number | undefined): Lease {
  if (seqNo === undefined || primaryTerm === undefined) {
    throw new PipelineError('es-request-failed', `[leases] ${doc.job}: write answered without _seq_no/_primary_term`);
  }
  return {
    index,
    job: doc.job,
    owner: doc.owner,
    acquiredAt: new Date(doc.acquired_at),
    expiresAt: new Date(doc.expires_at),
    seqNo,
    primaryTerm,
  };
}

function isStatus(err: unknown, status: number): boolean {
  return err instanceof errors.ResponseError && err.statusCode === status;
}

function requestFailed(what: string, err: unknown): PipelineError {
  const code = err instanceof errors.ConnectionError || err instanceof errors.TimeoutError ? 'es-unreachable' : 'es-request-failed';
  return new PipelineError(code, `[leases] ${what}: ${errorMessage(err)}`, { cause: err });
}
