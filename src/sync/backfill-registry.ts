import { errors, type Client } from '@elastic/elasticsearch';
import { ensureLeaseIndex } from '../lease/lease.ts';

/** Index settings as they were before the first shard of a backfill changed them. */
export interface OriginalSettings {
  refresh_interval: string | null;
  number_of_replicas: string | null;
}

export interface RegistryTarget {
  client: Client;
  /** The leases index, which holds the registry doc `backfill:<runs>`. */
  leases: string;
  /** The runs index (alias) whose settings the backfill changes. */
  runs: string;
}

/** `backfill` part of the registry doc (stored, not indexed: `enabled: false` in the leases mapping). */
interface Registry {
  original: OriginalSettings;
  /** Member id → expiry (ISO). A member past its expiry crashed: it no longer counts as live. */
  members: Record<string, string>;
  /** Set by the member that found itself last, while it restores; a joiner clears it. */
  restoring: boolean;
}

interface RegistryDoc {
  job: string;
  owner: string;
  acquired_at: string;
  renewed_at: string;
  backfill: Registry;
}

/** The settings a backfill loads with. */
export const BACKFILL_SETTINGS = { refresh_interval: '-1', number_of_replicas: 0 } as const;

/** Optimistic-concurrency retries; each round re-reads the doc, so contention only costs a round trip. */
const ATTEMPTS = 20;

/**
 * Registers `member` as a live shard (expiry `now + ttlMs`) and turns refresh off / replicas to 0.
 * The first member records the original settings; later members never overwrite them, so a late
 * shard cannot record the backfill's own -1 / 0 as "original".
 */
export async function joinBackfill(t: RegistryTarget, member: string, expiresAt: Date, legacy: OriginalSettings | null): Promise<void> {
  await ensureLeaseIndex(t.client, t.leases);
  await update(
    t,
    (current) => ({ members: { ...current?.members, [member]: expiresAt.toISOString() }, restoring: false }),
    async () => legacy ?? (await readSettings(t.client, t.runs)),
  );
  await t.client.indices.putSettings({ index: t.runs, settings: { index: BACKFILL_SETTINGS } });
}

/** Extends `member`'s expiry (its heartbeat). */
export async function heartbeatBackfill(t: RegistryTarget, member: string, expiresAt: Date): Promise<void> {
  await update(t, (current) =>
    current === null ? null : { members: { ...current.members, [member]: expiresAt.toISOString() }, restoring: current.restoring },
  );
}

/**
 * Unregisters `member` (null: nobody, crash recovery). When no live member is left, the original
 * settings are restored, once, and the registry doc removed. Returns whether this call restored.
 */
export async function leaveBackfill(t: RegistryTarget, member: string | null, now: Date): Promise<'restored' | 'others-live' | 'none'> {
  await ensureLeaseIndex(t.client, t.leases);
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const got = await read(t);
    if (got === null) {
      return 'none';
    }
    const members = Object.fromEntries(Object.entries(got.doc.backfill.members).filter(([id]) => id !== member));
    const live = Object.values(members).some((expiry) => Date.parse(expiry) > now.getTime());
    if (live && member === null) {
      return 'others-live';
    }
    const next: Registry = { ...got.doc.backfill, members: live ? members : {}, restoring: !live };
    if (!(await write(t, got, next))) {
      continue;
    }
    if (live) {
      return 'others-live';
    }
    await restore(t.client, t.runs, next.original);
    const after = await read(t);
    if (after === null) {
      return 'restored';
    }
    if (after.doc.backfill.restoring && Object.keys(after.doc.backfill.members).length === 0) {
      await t.client.delete(
        { index: t.leases, id: docId(t), if_seq_no: after.seqNo, if_primary_term: after.primaryTerm, refresh: false },
        { ignore: [404, 409] },
      );
      return 'restored';
    }
    // A shard joined while we restored: it loads with refresh off, so its settings win again.
    await t.client.indices.putSettings({ index: t.runs, settings: { index: BACKFILL_SETTINGS } });
    return 'others-live';
  }
  throw new Error(`[backfill] registry ${docId(t)}: too much contention`);
}

/** Live members right now (for crash recovery and tests). */
export async function liveBackfillMembers(t: RegistryTarget, now: Date): Promise<string[]> {
  const got = await read(t);
  return got === null
    ? []
    : Object.entries(got.doc.backfill.members)
        .filter(([, expiry]) => Date.parse(expiry) > now.getTime())
        .map(([id]) => id);
}

/** The registry doc's original settings, or null when no backfill is registered. */
export async function registeredOriginal(t: RegistryTarget): Promise<OriginalSettings | null> {
  return (await read(t))?.doc.backfill.original ?? null;
}

// --- internal ---

interface Versioned {
  doc: RegistryDoc;
  seqNo: number;
  primaryTerm: number;
}

function docId(t: RegistryTarget): string {
  return `backfill:${t.runs}`;
}

async function read(t: RegistryTarget): Promise<Versioned | null> {
  // Realtime GET: sees the latest write without a refresh.
  const res = await t.client.get<RegistryDoc>({ index: t.leases, id: docId(t) }, { ignore: [404] });
  if (!res.found || !res._source || res._seq_no === undefined || res._primary_term === undefined) {
    return null;
  }
  return { doc: res._source, seqNo: res._seq_no, primaryTerm: res._primary_term };
}

/** Writes `next` if the doc is still at `got`'s version; false when someone else wrote first. */
async function write(t: RegistryTarget, got: Versioned, next: Registry): Promise<boolean> {
  try {
    await t.client.index({
      index: t.leases,
      id: docId(t),
      document: { ...got.doc, renewed_at: new Date().toISOString(), backfill: next },
      if_seq_no: got.seqNo,
      if_primary_term: got.primaryTerm,
      refresh: false,
    });
    return true;
  } catch (err) {
    if (err instanceof errors.ResponseError && (err.statusCode === 409 || err.statusCode === 404)) {
      return false;
    }
    throw err;
  }
}

/** The new members/restoring state from the current one; null: write nothing. `original` is never patched. */
type Patch = (current: Registry | null) => Omit<Registry, 'original'> | null;

async function update(t: RegistryTarget, patch: Patch, original?: () => Promise<OriginalSettings>): Promise<void> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const got = await read(t);
    const next = patch(got?.doc.backfill ?? null);
    if (next === null) {
      return;
    }
    if (got !== null) {
      if (await write(t, got, { ...next, original: got.doc.backfill.original })) {
        return;
      }
      continue;
    }
    if (!original) {
      return;
    }
    const at = new Date().toISOString();
    const doc: RegistryDoc = { job: docId(t), owner: 'backfill', acquired_at: at, renewed_at: at, backfill: { ...next, original: await original() } };
    try {
      // https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-create
      await t.client.create({ index: t.leases, id: docId(t), document: doc, refresh: false });
      return;
    } catch (err) {
      if (!(err instanceof errors.ResponseError && err.statusCode === 409)) {
        throw err;
      }
    }
  }
  throw new Error(`[backfill] registry ${docId(t)}: too much contention`);
}

async function readSettings(client: Client, index: string): Promise<OriginalSettings> {
  const current = await client.indices.getSettings({ index, flat_settings: true, include_defaults: true });
  const settings = Object.values(current)[0];
  const pick = (key: string) => String(settings?.settings?.[key] ?? settings?.defaults?.[key] ?? '') || null;
  return { refresh_interval: pick('index.refresh_interval'), number_of_replicas: pick('index.number_of_replicas') };
}

async function restore(client: Client, index: string, original: OriginalSettings): Promise<void> {
  await client.indices.putSettings({
    index,
    settings: { index: { refresh_interval: original.refresh_interval ?? '1s', number_of_replicas: Number(original.number_of_replicas ?? 1) } },
  });
  await client.indices.refresh({ index });
}
