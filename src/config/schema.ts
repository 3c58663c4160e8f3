import { availableParallelism } from 'node:os';
import cron from 'node-cron';
import { z } from 'zod';

const Duration = z.string().regex(/^\d+(ms|s|m|h|d|w)$/, 'expected a duration such as 90s, 15m, 12h, 7d or 2w');

const Globs = z.array(z.string().min(1)).default([]);

/** A cron expression node-cron accepts (5 fields, or 6 with seconds); checked here so a bad one fails `config check`, not the scheduler at 2 am. */
const CronExpression = z.string().refine((value) => cron.validate(value), {
  error: (issue) => `not a valid cron expression: ${JSON.stringify(issue.input)} (5 fields: minute hour day-of-month month day-of-week, each within its range)`,
});

/** An IANA time zone the runtime knows (e.g. Europe/Berlin, UTC). */
const TimeZone = z
  .string()
  .refine(isTimeZone, { error: (issue) => `unknown time zone: ${JSON.stringify(issue.input)} (an IANA name such as UTC or Europe/Berlin)` });

/**
 * An Elasticsearch index or alias name, by the engine's own rules (MetadataCreateIndexService): lowercase,
 * none of \\ / * ? " < > | , # : or space, not starting with - _ +, not . or .., at most 255 bytes.
 */
const IndexName = z
  .string()
  .min(1)
  .refine((name) => name === name.toLowerCase(), 'an index name must be lowercase')
  .refine((name) => !/[\\/*?"<>|,# :]/.test(name), 'an index name must not contain \\ / * ? " < > | , # : or a space')
  .refine((name) => !/^[-_+]/.test(name), 'an index name must not start with -, _ or +')
  .refine((name) => name !== '.' && name !== '..', 'an index name cannot be . or ..')
  .refine((name) => Buffer.byteLength(name) <= 255, 'an index name is at most 255 bytes');

export const FsSourceConfig = z.strictObject({
  /** Stable name of this root; part of every run's identity when it has no content identity. Never rename. */
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, - and _ only'),
  kind: z.literal('fs'),
  /** Directory to crawl (local path or NFS mount); relative paths resolve against the config file. */
  path: z.string().min(1),
  include: Globs,
  exclude: Globs,
  /** Follow symbolic links (loop-safe). Default false. */
  follow_symlinks: z.boolean().default(false),
  /** Filesystem calls of the walk: plain (local disks) or many in flight (network filesystems); auto decides from statfs. */
  io: z.enum(['auto', 'sync', 'async']).default('auto'),
  /** Deadline of one file read (or one chunk of a streamed log): past it the run is a parse_error "read timed out". Default 60s. */
  read_timeout: Duration.default('60s'),
});
export type FsSourceConfig = z.infer<typeof FsSourceConfig>;

export const S3SourceConfig = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, - and _ only'),
  kind: z.literal('s3'),
  bucket: z.string().min(3),
  /** Key prefix of the runs, without a leading slash. Default: the whole bucket. */
  prefix: z.string().default(''),
  /** Custom endpoint for S3-compatible stores (MinIO, Ceph). Credentials come from the standard AWS chain. */
  endpoint: z.url().optional(),
  region: z.string().default('us-east-1'),
  force_path_style: z.boolean().default(false),
  include: Globs,
  exclude: Globs,
});
export type S3SourceConfig = z.infer<typeof S3SourceConfig>;

export const SourceConfig = z.discriminatedUnion('kind', [FsSourceConfig, S3SourceConfig]);
export type SourceConfig = z.infer<typeof SourceConfig>;

export const LocalEngineConfig = z.strictObject({
  /** Maven repository base URL (a mirror, if Maven Central is not reachable). */
  repository: z.url().default('https://repo1.maven.org/maven2'),
  /** HTTP port of an engine started for one command; 0 = a free one (default, so it never clashes with a cluster on 9200). */
  port: z.number().int().min(0).max(65535).default(0),
  heap: z
    .string()
    .regex(/^\d+[mg]$/, 'expected a JVM heap size such as 512m or 1g')
    .default('1g'),
  /**
   * The engine a command starts stays up for the next commands and stops after this long unused
   * (default 30m); `0s` stops it when the command ends. An `es start` engine runs until `es stop`.
   */
  idle_timeout: Duration.default('30m'),
});

export const ElasticsearchConfig = z.strictObject({
  /** Cluster URL. Absent = the embedded local engine, started by the tool. */
  url: z.url().optional(),
  api_key: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  /** Path of a PEM CA certificate for TLS clusters with a private CA. */
  ca_cert: z.string().optional(),
  request_timeout: Duration.default('30s'),
  local: LocalEngineConfig.prefault({}),
});
export type ElasticsearchConfig = z.infer<typeof ElasticsearchConfig>;

export const IndicesConfig = z.strictObject({
  runs: IndexName.default('lora-runs'),
  rollups: IndexName.default('lora-rollups'),
  sync_runs: IndexName.default('lora-sync-runs'),
  leases: IndexName.default('lora-leases'),
});

export const SyncConfig = z.strictObject({
  /** A run missing from a complete listing is marked vanished only after this long. */
  vanish_grace: Duration.default('0s'),
  /** Share of a root's runs that may vanish in one sync before it stops and asks for --allow-mass-vanish. */
  max_vanish_share: z.number().min(0).max(1).default(0.2),
  /** Runs parsed at once. */
  parse_concurrency: z.number().int().min(1).max(256).default(16),
  /** Worker threads that parse runs (0 = on the main thread). Default: the machine's cores. */
  parse_workers: z.number().int().min(0).max(64).default(availableParallelism()),
  bulk_flush_bytes: z
    .number()
    .int()
    .min(1024)
    .default(5 * 1024 * 1024),
  bulk_concurrency: z.number().int().min(1).max(16).default(2),
  bulk_retries: z.number().int().min(0).max(20).default(5),
});

export const ScheduleConfig = z.strictObject({
  timezone: TimeZone.default('UTC'),
  full: CronExpression.default('0 2 * * *'),
  incremental: CronExpression.default('15 * * * *'),
  retention: CronExpression.default('30 3 * * *'),
  /** Lease time-to-live; renewed at a third of it while a job runs. */
  lease_ttl: Duration.default('5m'),
  /**
   * Per job: whether a scheduled slot that passed while no scheduler ran is run once at start.
   * Only slots after the scheduler's first start (or the job's last run) count: a first start is not a
   * missed run. Retention is off by default: its next slot does the same work.
   */
  catch_up: z.strictObject({ full: z.boolean().default(true), incremental: z.boolean().default(true), retention: z.boolean().default(false) }).prefault({}),
});

export const RetentionConfig = z.strictObject({
  days: z.number().int().min(1).default(30),
  tags: z.array(z.string()).default(['debug', 'test']),
});

export const Config = z.strictObject({
  sources: z.array(SourceConfig).default([]),
  elasticsearch: ElasticsearchConfig.prefault({}),
  indices: IndicesConfig.prefault({}),
  sync: SyncConfig.prefault({}),
  schedule: ScheduleConfig.prefault({}),
  retention: RetentionConfig.prefault({}),
  /** Where `report` spools records when Elasticsearch is unreachable. Default: the state directory. */
  outbox_dir: z.string().optional(),
});
export type Config = z.infer<typeof Config>;

/** Milliseconds of a duration string such as `7d`. */
export function durationMs(value: string): number {
  const match = /^(\d+)(ms|s|m|h|d|w)$/.exec(value);
  if (!match) {
    throw new Error(`not a duration: ${value}`);
  }
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as 'ms'];
  return Number(match[1]) * unit;
}

/**
 * An fs source the tool makes itself (the bundled examples, the hook's ad-hoc root) with the schema's
 * defaults for every other key, so a new key's default is written once. The name is not checked: an
 * ad-hoc source is named after its path.
 */
export function fsSource(name: string, sourcePath: string): FsSourceConfig {
  return { ...FsSourceConfig.parse({ name: 'defaults', kind: 'fs', path: sourcePath }), name };
}

// --- internal ---

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}
