import type { Client, estypes } from '@elastic/elasticsearch';
import type { Config } from '../config/schema.ts';
import { INDEX_SETTINGS, leasesMappings, MAPPING_VERSION, rollupsMappings, runsMappings, syncRunsMappings, type AnalysisCapabilities } from './mappings.ts';
import { scanPages } from './pit.ts';

export type IndexRole = 'runs' | 'rollups' | 'sync_runs' | 'leases';

export interface IndexStatus {
  role: IndexRole;
  alias: string;
  /** Concrete index behind the alias, or null when not created yet. */
  index: string | null;
  version: number | null;
  docs: number | null;
  /** True when the index's mapping version is older than this build's. */
  needsMigration: boolean;
}

/** Small pages keep memory flat when copying an index during migration. */
const MIGRATE_BATCH = 1000;

/** Reads which analysis extras the cluster has, from `GET _nodes/plugins` (modules and plugins of every node must have it). */
export async function detectCapabilities(client: Client): Promise<AnalysisCapabilities> {
  // https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-nodes-info
  const info = await client.nodes.info({ metric: ['plugins'] });
  const nodes = Object.values(info.nodes);
  const everyNodeHas = (name: string) =>
    nodes.length > 0 && nodes.every((node) => [...(node.modules ?? []), ...(node.plugins ?? [])].some((p) => p.name === name));
  return { cjk: everyNodeHas('analysis-common'), ik: everyNodeHas('analysis-ik') };
}

export function aliasFor(config: Config, role: IndexRole): string {
  return config.indices[role];
}

/** Creates templates and the versioned indices behind their aliases where missing. Idempotent. */
export async function applyIndices(client: Client, config: Config, caps?: AnalysisCapabilities): Promise<IndexStatus[]> {
  const [capabilities, replicas] = await Promise.all([caps ?? detectCapabilities(client), replicasFor(client)]);
  // The roles' indices are independent: set up side by side (each is a few round trips, index creation the slowest).
  return Promise.all(
    ROLES.map(async (role): Promise<IndexStatus> => {
      const alias = aliasFor(config, role);
      const body = definition(role, capabilities, replicas);
      // The index is created with its full definition, so it does not wait for its template.
      // https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-indices-put-index-template
      const template = client.indices.putIndexTemplate({
        name: `${alias}-template`,
        index_patterns: [`${alias}-v*`],
        template: { settings: body.settings, mappings: body.mappings },
        _meta: { managed_by: 'lora-catalog', mapping_version: MAPPING_VERSION },
      });
      const created = await ensureIndex(client, alias, role, capabilities, replicas);
      const status = created ? createdStatus(role, alias) : await existingStatus(client, role, alias, body.mappings);
      await template;
      return status;
    }),
  );
}

/**
 * Creates `<alias>-v<N>` behind `alias`, with the role's settings and mapping, unless the alias (or an
 * index of that name) exists. Every lora-catalog index is made here, so none squats on an alias name.
 * Safe when two processes race. True when this call created it.
 */
export async function ensureIndex(client: Client, alias: string, role: IndexRole, caps: AnalysisCapabilities = NO_EXTRAS, replicas?: number): Promise<boolean> {
  if (await client.indices.exists({ index: alias })) {
    return false;
  }
  return createIndexQuietly(client, `${alias}-v${MAPPING_VERSION}`, alias, definition(role, caps, replicas ?? (await replicasFor(client))));
}

/**
 * ensureIndex, then the fields this build maps and an existing index of a role without analysed text
 * (rollups, sync runs, leases) lacks: a job that writes a new field can run before any `applyIndices`.
 */
export async function ensureIndexFields(client: Client, alias: string, role: Exclude<IndexRole, 'runs'>): Promise<void> {
  if (!(await ensureIndex(client, alias, role))) {
    await addNewFields(client, alias, definition(role, NO_EXTRAS, 0).mappings, await currentMapping(client, alias));
  }
}

export async function indicesStatus(client: Client, config: Config): Promise<IndexStatus[]> {
  return Promise.all(
    ROLES.map(async (role): Promise<IndexStatus> => {
      const alias = aliasFor(config, role);
      const index = await resolveAlias(client, alias);
      if (index === null) {
        return { role, alias, index: null, version: null, docs: null, needsMigration: true };
      }
      const [mapping, count] = await Promise.all([client.indices.getMapping({ index }), client.count({ index })]);
      const meta = mapping[index]?.mappings._meta as { mapping_version?: number } | undefined;
      const version = meta?.mapping_version ?? null;
      return { role, alias, index, version, docs: count.count, needsMigration: version === null || version < MAPPING_VERSION };
    }),
  );
}

/**
 * Moves an alias to a new index with this build's mapping: create `<alias>-v<N>`, copy every document
 * (point-in-time + search_after + bulk; the minimal engine has no _reindex), then swap the alias atomically.
 * The old index is kept for rollback.
 */
export async function migrateIndex(client: Client, config: Config, role: IndexRole): Promise<{ from: string | null; to: string; copied: number }> {
  const alias = aliasFor(config, role);
  const from = await resolveAlias(client, alias);
  const caps = await detectCapabilities(client);
  await applyIndices(client, config, caps);
  const to = `${alias}-v${MAPPING_VERSION}`;
  if (from === to || from === null) {
    return { from, to, copied: 0 };
  }
  await createIndexQuietly(client, to, null, definition(role, caps, await replicasFor(client)));
  const copied = await copyAll(client, from, to);
  // https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-indices-update-aliases
  await client.indices.updateAliases({
    actions: [{ remove: { index: from, alias } }, { add: { index: to, alias, is_write_index: true } }],
  });
  return { from, to, copied };
}

export async function resolveAlias(client: Client, alias: string): Promise<string | null> {
  const exists = await client.indices.existsAlias({ name: alias });
  if (!exists) {
    return null;
  }
  const aliases = await client.indices.getAlias({ name: alias });
  return Object.keys(aliases)[0] ?? null;
}

// --- internal ---

const ROLES: readonly IndexRole[] = ['runs', 'rollups', 'sync_runs', 'leases'];

/** Only the built-in analyzers (what the minimal engine has). */
const NO_EXTRAS: AnalysisCapabilities = { cjk: false, ik: false };

/**
 * Replicas for a new index: none on a single-node cluster, where a replica can never be assigned (the
 * index would stay yellow) and only costs the engine work; one where there is a node to hold it.
 */
export async function replicasFor(client: Client): Promise<number> {
  // https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-cluster-health
  const health = await client.cluster.health();
  return health.number_of_nodes > 1 ? 1 : 0;
}

function definition(
  role: IndexRole,
  caps: AnalysisCapabilities,
  replicas: number,
): { settings: estypes.IndicesIndexSettings; mappings: estypes.MappingTypeMapping } {
  const mappings = { runs: () => runsMappings(caps), rollups: rollupsMappings, sync_runs: syncRunsMappings, leases: leasesMappings }[role]();
  return {
    settings: { ...INDEX_SETTINGS, number_of_shards: 1, number_of_replicas: replicas },
    mappings: { ...mappings, _meta: { mapping_version: MAPPING_VERSION, analysis: caps } },
  };
}

/** A role's status right after this process created its index: this build's version, empty. */
function createdStatus(role: IndexRole, alias: string): IndexStatus {
  return { role, alias, index: `${alias}-v${MAPPING_VERSION}`, version: MAPPING_VERSION, docs: 0, needsMigration: false };
}

/** An existing index: the fields this build adds to it, then its status (read from the same mapping). */
async function existingStatus(client: Client, role: IndexRole, alias: string, mappings: estypes.MappingTypeMapping): Promise<IndexStatus> {
  const index = await resolveAlias(client, alias);
  // A concrete index named like the alias (an early catalogue's) gets the new fields too, and is reported as needing migration.
  const [current, count] = await Promise.all([currentMapping(client, index ?? alias), index === null ? null : client.count({ index })]);
  await addNewFields(client, alias, mappings, current);
  if (index === null || count === null) {
    return { role, alias, index: null, version: null, docs: null, needsMigration: true };
  }
  const version = (current._meta as { mapping_version?: number } | undefined)?.mapping_version ?? null;
  return { role, alias, index, version, docs: count.count, needsMigration: version === null || version < MAPPING_VERSION };
}

async function currentMapping(client: Client, index: string): Promise<estypes.MappingTypeMapping> {
  const res = await client.indices.getMapping({ index });
  return Object.values(res)[0]?.mappings ?? {};
}

/**
 * Adds fields this build maps and an existing index does not (mappings are strict: a document with a new
 * field would be refused). A changed field type is left to `indices migrate` (400 here, ignored). Nothing
 * is sent when every field is there: a mapping update is a cluster-state change even when it changes nothing.
 */
async function addNewFields(client: Client, alias: string, mappings: estypes.MappingTypeMapping, current: estypes.MappingTypeMapping): Promise<void> {
  if (!lacksFields(mappings.properties ?? {}, current.properties ?? {})) {
    return;
  }
  // https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-indices-put-mapping
  await client.indices.putMapping({ index: alias, properties: mappings.properties ?? {} }, { ignore: [400] });
}

/** Whether `wanted` maps a field, sub-field or object property that `current` does not. */
export function lacksFields(wanted: Record<string, estypes.MappingProperty>, current: Record<string, estypes.MappingProperty>): boolean {
  return Object.entries(wanted).some(([name, field]) => {
    const have = current[name] as { properties?: Record<string, estypes.MappingProperty>; fields?: Record<string, estypes.MappingProperty> } | undefined;
    if (have === undefined) {
      return true;
    }
    const want = field as { properties?: Record<string, estypes.MappingProperty>; fields?: Record<string, estypes.MappingProperty> };
    return lacksFields(want.properties ?? {}, have.properties ?? {}) || lacksFields(want.fields ?? {}, have.fields ?? {});
  });
}

/** Creates the index; false when another process created it first. */
async function createIndexQuietly(client: Client, index: string, alias: string | null, body: ReturnType<typeof definition>): Promise<boolean> {
  try {
    // https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-indices-create
    await client.indices.create({
      index,
      settings: body.settings,
      mappings: body.mappings,
      ...(alias ? { aliases: { [alias]: { is_write_index: true } } } : {}),
    });
    return true;
  } catch (err) {
    // Two processes applying at once: the loser sees resource_already_exists_exception, which is fine.
    if ((err as { body?: { error?: { type?: string } } }).body?.error?.type !== 'resource_already_exists_exception') {
      throw err;
    }
    return false;
  }
}

async function copyAll(client: Client, from: string, to: string): Promise<number> {
  let copied = 0;
  for await (const hits of scanPages<Record<string, unknown>>(client, { index: from, pageSize: MIGRATE_BATCH, keepAlive: '2m' })) {
    const operations = hits.flatMap((hit) => [{ index: { _index: to, _id: hit._id } }, hit._source ?? {}]);
    const res = await client.bulk({ operations, refresh: false });
    if (res.errors) {
      const first = res.items.find((item) => item.index?.error)?.index?.error;
      throw new Error(`copy ${from} → ${to}: ${first?.type}: ${first?.reason}`);
    }
    copied += hits.length;
  }
  await client.indices.refresh({ index: to });
  return copied;
}
