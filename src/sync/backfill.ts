import type { Client } from '@elastic/elasticsearch';
import type { Logger } from '../log.ts';
import { heartbeatBackfill, joinBackfill, leaveBackfill, type OriginalSettings, type RegistryTarget } from './backfill-registry.ts';

export interface BackfillContext extends RegistryTarget {
  /** This shard's id in the registry (unique per process and shard). */
  member: string;
  /** A member not heard from for this long counts as crashed; the heartbeat runs every ttl/3. */
  ttlMs: number;
  now: () => Date;
  log: Logger;
}

/**
 * Runs `work` with refresh off and no replicas (the fast way to load a large history). The shards of
 * a backfill coordinate through a registry doc in the leases index (backfill-registry.ts): the first
 * records the original settings, each keeps its entry alive with a heartbeat, and the last one out
 * restores the settings, once, and never while another live shard is registered.
 */
export async function withBackfillSettings<T>(b: BackfillContext, work: () => Promise<T>): Promise<T> {
  const legacy = await readLegacy(b.client, b.runs);
  await joinBackfill(b, b.member, expiry(b), legacy);
  if (legacy) {
    await clearLegacy(b.client, b.runs);
  }
  const timer = setInterval(
    () => {
      heartbeatBackfill(b, b.member, expiry(b)).catch((err: unknown) => b.log.warn({ err, member: b.member }, 'Backfill heartbeat failed'));
    },
    Math.max(10, Math.floor(b.ttlMs / 3)),
  );
  try {
    return await work();
  } finally {
    clearInterval(timer);
    const outcome = await leaveBackfill(b, b.member, b.now());
    b.log.info({ member: b.member, outcome }, 'Backfill shard left');
  }
}

/**
 * A normal sync's crash recovery: restores the settings of a backfill whose shards all crashed
 * (their entries expired). Never while a live shard is registered. Returns whether it restored.
 */
export async function restoreAfterCrash(b: Omit<BackfillContext, 'member'>): Promise<boolean> {
  const outcome = await leaveBackfill(b, null, b.now());
  if (outcome !== 'none') {
    return outcome === 'restored';
  }
  // Left by a version that kept the original settings in the runs mapping's _meta.
  const legacy = await readLegacy(b.client, b.runs);
  if (!legacy) {
    return false;
  }
  await b.client.indices.putSettings({
    index: b.runs,
    settings: { index: { refresh_interval: legacy.refresh_interval ?? '1s', number_of_replicas: Number(legacy.number_of_replicas ?? 1) } },
  });
  await clearLegacy(b.client, b.runs);
  await b.client.indices.refresh({ index: b.runs });
  return true;
}

// --- internal ---

function expiry(b: BackfillContext): Date {
  return new Date(b.now().getTime() + b.ttlMs);
}

async function readLegacy(client: Client, index: string): Promise<OriginalSettings | null> {
  const mapping = await client.indices.getMapping({ index });
  const meta = Object.values(mapping)[0]?.mappings._meta as { backfill?: OriginalSettings | null } | undefined;
  return meta?.backfill ?? null;
}

async function clearLegacy(client: Client, index: string): Promise<void> {
  const mapping = await client.indices.getMapping({ index });
  const meta = (Object.values(mapping)[0]?.mappings._meta ?? {}) as Record<string, unknown>;
  // https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-indices-put-mapping
  await client.indices.putMapping({ index, _meta: { ...meta, backfill: null } });
}
