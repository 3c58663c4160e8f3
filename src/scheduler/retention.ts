import { errors, type Client, type estypes } from '@elastic/elasticsearch';
import type { AppContext } from '../context.ts';
import ilmPolicy from '../es/ilm-policy.json' with { type: 'json' };
import { writeStamp } from '../rollups/keys.ts';
import { scanPages } from '../es/pit.ts';
import { errorMessage, PipelineError } from '../errors.ts';

export interface RetentionOptions {
  /** Count what would be retired; change nothing and leave the ILM policy alone. Default false. */
  dryRun?: boolean;
  /** Runs per search page and bulk request. Default 1000. */
  batchSize?: number;
}

export interface RetentionReport {
  /**
   * `ilm`: the cluster has ILM and the `lora-catalog-retention` policy is installed, so index-level age
   * retention (time-based indices attached to the policy) is ILM's; `app`: no ILM, all retention is ours.
   * Either way the per-run debug/test removal below ran app-side: ILM only deletes whole indices.
   */
  mode: 'ilm' | 'app';
  ilm: { available: boolean; policy: string | null };
  dryRun: boolean;
  /** Runs older than this (created_at) with a retention tag are retired. */
  cutoff: string;
  tags: string[];
  matched: number;
  /** Runs marked `state: retired` (a tombstone sync respects; the document stays, out of search and rollups). */
  retired: number;
  failed: number;
  /** Stopped early by ctx.signal; the next run finishes the job (it is idempotent). */
  aborted: boolean;
  errors: { id: string; reason: string }[];
  /** The first `LISTED_RUNS` runs retired (or, on a dry run, that would be), with where they are and when they were made. */
  runs: { id: string; location: string | null; created_at: string | null }[];
}

/** Runs named in the report (and printed): enough to check a dry run before the real one. */
export const LISTED_RUNS = 50;

export const ILM_POLICY_NAME = 'lora-catalog-retention';

/** A page of ids at a time: memory stays bounded however many runs expire. */
const DEFAULT_BATCH = 1000;

/** Per-run failures kept in the report; the count covers all. */
const MAX_REPORTED_ERRORS = 20;

/**
 * Retires catalogued runs tagged with any of `config.retention.tags` whose `created_at` is older than
 * `config.retention.days`: a partial update to `state: retired` with `retired_at`/`retired_reason`,
 * not a delete, so the next sync finds the decision and keeps the run out instead of re-adding it as
 * new (sync re-catalogues it only when its files change). Selection is a point-in-time + search_after
 * scan sorted by `_shard_doc`, the marks are `_bulk` in batches: bounded memory, no `_update_by_query`
 * needed. Where the cluster has ILM, the shipped policy is installed too (see `mode`).
 */
export async function runRetention(ctx: AppContext, opts: RetentionOptions = {}): Promise<RetentionReport> {
  const { client, config } = ctx;
  const dryRun = opts.dryRun ?? false;
  const tags = config.retention.tags.map((tag) => tag.toLowerCase());
  const cutoff = new Date(ctx.now().getTime() - config.retention.days * 86_400_000);
  const available = await detectIlm(client);
  let policy: string | null = null;
  if (available && !dryRun) {
    await applyIlmPolicy(client, config.retention.days);
    policy = ILM_POLICY_NAME;
  }
  const report: RetentionReport = {
    mode: available && (policy !== null || dryRun) ? 'ilm' : 'app',
    ilm: { available, policy },
    dryRun,
    cutoff: cutoff.toISOString(),
    tags,
    matched: 0,
    retired: 0,
    failed: 0,
    aborted: false,
    errors: [],
    runs: [],
  };
  if (tags.length === 0) {
    return report;
  }
  const query: estypes.QueryDslQueryContainer = {
    bool: { filter: [{ terms: { tags } }, { range: { created_at: { lt: cutoff.toISOString() } } }], must_not: [{ term: { state: 'retired' } }] },
  };
  for await (const hits of scanIds(client, config.indices.runs, query, opts.batchSize ?? DEFAULT_BATCH)) {
    report.matched += hits.length;
    for (const hit of hits.slice(0, Math.max(0, LISTED_RUNS - report.runs.length))) {
      report.runs.push({ id: hit.id, location: hit.location, created_at: hit.createdAt });
    }
    if (!dryRun) {
      await retireBatch(client, hits, report, {
        at: ctx.now().toISOString(),
        reason: `retention: tagged ${tags.join('/')}, created before ${cutoff.toISOString()}`,
      });
    }
    if (ctx.signal.aborted) {
      report.aborted = true;
      break;
    }
  }
  if (report.retired > 0) {
    await client.indices.refresh({ index: config.indices.runs });
  }
  ctx.log.info({ mode: report.mode, matched: report.matched, retired: report.retired, failed: report.failed, dryRun }, 'Retention finished');
  return report;
}

/** Whether the cluster answers the ILM API (`GET _ilm/status`); absent ILM answers 400/404/405/410. */
export async function detectIlm(client: Client): Promise<boolean> {
  try {
    // https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-ilm-get-status
    await client.ilm.getStatus();
    return true;
  } catch (err) {
    if (err instanceof errors.ResponseError && [400, 404, 405, 410].includes(err.statusCode ?? 0)) {
      return false;
    }
    throw new PipelineError('es-request-failed', `[retention] GET _ilm/status: ${errorMessage(err)}`, { cause: err });
  }
}

/** PUT _ilm/policy/lora-catalog-retention: the shipped policy with min_age from `retention.days`. */
export async function applyIlmPolicy(client: Client, days: number): Promise<void> {
  const body = structuredClone(ilmPolicy);
  body.policy.phases.delete.min_age = `${days}d`;
  // https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-ilm-put-lifecycle
  await client.ilm.putLifecycle({ name: ILM_POLICY_NAME, policy: body.policy as estypes.IlmPolicy });
}

// --- internal ---

interface HitRef {
  index: string;
  id: string;
  location: string | null;
  createdAt: string | null;
}

async function* scanIds(client: Client, index: string, query: estypes.QueryDslQueryContainer, size: number): AsyncGenerator<HitRef[]> {
  try {
    for await (const hits of scanPages(client, { index, query, _source: ['source.uri', 'created_at'], pageSize: size, keepAlive: '2m' })) {
      yield hits.map((hit) => {
        const source = (hit._source ?? {}) as { source?: { uri?: string }; created_at?: string | null };
        return { index: hit._index, id: hit._id as string, location: source.source?.uri ?? null, createdAt: source.created_at ?? null };
      });
    }
  } catch (err) {
    if (err instanceof errors.ResponseError && err.statusCode === 404) {
      return;
    }
    throw new PipelineError('es-request-failed', `[retention] scan ${index}: ${errorMessage(err)}`, { cause: err });
  }
}

async function retireBatch(client: Client, hits: HitRef[], report: RetentionReport, mark: { at: string; reason: string }): Promise<void> {
  // Stamped like every write that changes what a run adds to the rollups: the next rollup pass drops it from its buckets.
  const doc = { state: 'retired', retired_at: mark.at, retired_reason: mark.reason, missing_since: null, rollup_stamp: writeStamp() };
  // https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-bulk
  const res = await client.bulk({ operations: hits.flatMap((hit) => [{ update: { _index: hit.index, _id: hit.id } }, { doc }]), refresh: false });
  for (const item of res.items) {
    const result = item.update;
    if (!result) {
      continue;
    }
    if (result.status >= 200 && result.status < 300) {
      report.retired += 1;
    } else if (result.status !== 404) {
      report.failed += 1;
      if (report.errors.length < MAX_REPORTED_ERRORS) {
        report.errors.push({ id: result._id ?? '', reason: `${result.status} ${result.error?.type ?? ''}: ${result.error?.reason ?? ''}` });
      }
    }
  }
}
