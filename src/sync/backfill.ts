import type { Client } from '@elastic/elasticsearch';

interface SavedSettings {
  refresh_interval: string | null;
  number_of_replicas: string | null;
  started_at: string;
}

/**
 * Runs `work` with refresh off and no replicas (the fast way to load a large history), and restores
 * the index's settings afterwards. The original settings are saved in the index's mapping `_meta`
 * first, so a sync killed mid-backfill is repaired by the next one (`restoreAfterCrash`).
 */
export async function withBackfillSettings<T>(client: Client, index: string, work: () => Promise<T>): Promise<T> {
  const saved = await readSaved(client, index);
  if (!saved) {
    const current = await client.indices.getSettings({ index, flat_settings: true, include_defaults: true });
    const settings = Object.values(current)[0];
    const pick = (key: string) => String(settings?.settings?.[key] ?? settings?.defaults?.[key] ?? '') || null;
    const original: SavedSettings = {
      refresh_interval: pick('index.refresh_interval'),
      number_of_replicas: pick('index.number_of_replicas'),
      started_at: new Date().toISOString(),
    };
    // https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-indices-put-mapping
    await client.indices.putMapping({ index, _meta: await mergedMeta(client, index, { backfill: original }) });
  }
  await client.indices.putSettings({ index, settings: { index: { refresh_interval: '-1', number_of_replicas: 0 } } });
  try {
    return await work();
  } finally {
    await restoreAfterCrash(client, index);
  }
}

/** Restores settings saved by an interrupted backfill, if any. Returns whether something was restored. */
export async function restoreAfterCrash(client: Client, index: string): Promise<boolean> {
  const saved = await readSaved(client, index);
  if (!saved) {
    return false;
  }
  await client.indices.putSettings({
    index,
    settings: { index: { refresh_interval: saved.refresh_interval ?? '1s', number_of_replicas: Number(saved.number_of_replicas ?? 1) } },
  });
  await client.indices.putMapping({ index, _meta: await mergedMeta(client, index, { backfill: null }) });
  await client.indices.refresh({ index });
  return true;
}

// --- internal ---

async function readSaved(client: Client, index: string): Promise<SavedSettings | null> {
  const mapping = await client.indices.getMapping({ index });
  const meta = Object.values(mapping)[0]?.mappings._meta as { backfill?: SavedSettings | null } | undefined;
  return meta?.backfill ?? null;
}

async function mergedMeta(client: Client, index: string, patch: Record<string, unknown>): Promise<Record<string, unknown>> {
  const mapping = await client.indices.getMapping({ index });
  const meta = (Object.values(mapping)[0]?.mappings._meta ?? {}) as Record<string, unknown>;
  return { ...meta, ...patch };
}
