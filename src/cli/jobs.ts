import { parseArgs } from 'node:util';
import type { SchedulerJobs } from '../../jobs/schedule.ts';
import { loadConfig } from '../config/load.ts';
import { durationMs, type Config } from '../config/schema.ts';
import type { AppContext } from '../context.ts';
import { DEFAULT_ES_PORT } from '../engine/es-daemon.ts';
import { createEsClient } from '../es/client.ts';
import { errorMessage } from '../errors.ts';
import { DEFAULT_REPORT_DEADLINE_MS, reportRun } from '../sync/hook/report.ts';
import { settleWithin } from '../lease/timing.ts';
import { runRetention } from '../scheduler/retention.ts';
import { createLogger, type LogLevel } from '../log.ts';

export type JobsCommand = 'schedule' | 'report' | 'retention';

export interface JobsCommandDeps {
  /** Line-oriented output (each call is one line or block; the writer adds the newline), as src/cli/io.ts. */
  io: { stdout(text: string): void; stderr(text: string): void; json?: boolean };
  /**
   * A ready context (main.ts connects first). Without it the command loads `config` (or `--config`) and
   * builds a client on `elasticsearch.url`, else the local engine's default port. `report` should be
   * dispatched without one: a post-run hook must not wait for a health check or start an engine.
   */
  ctx?: AppContext;
  /** The loaded config, when there is no ctx. */
  config?: Config;
  /** The job functions for `schedule`. Default: jobs/*.ts (runSync, runRollups, runRetention). */
  loadJobs?: () => Promise<SchedulerJobs>;
}

export interface ContextOptions {
  config?: Config;
  configFile?: string;
  signal: AbortSignal;
  logLevel?: LogLevel;
}

export const JOBS_USAGE: Record<JobsCommand, string> = {
  schedule: `Usage: lora-catalog schedule [options]

Runs the scheduler in the foreground: nightly full sync, hourly incremental sync (rollups after
each sync) and retention, at the cron times and time zone of config.schedule. Each run holds a lease
in Elasticsearch, so several schedulers (processes, pods) never run the same job twice at once.
A job whose last slot was missed while nothing ran (no scheduler up at 02:00) runs once at start,
per job as config schedule.catch_up says (default: full and incremental yes, retention no). A first
start is not a missed run: it runs nothing and records when it started.
SIGTERM/SIGINT: stop the timers, abort the running job, release its lease, exit within seconds.

Options:
  --config FILE     config file (default ./lora-catalog.yaml; env LORA_CATALOG_CONFIG)
  --no-catch-up     do not run missed jobs at start
  -h, --help        this help
`,
  report: `Usage: lora-catalog report <run-dir> [options]

For a training script's post-run hook: reads that one run and indexes it right away. Never fails
the caller: exits 0 within the deadline. When Elasticsearch is unreachable the record is written to
the outbox (config outbox_dir, default <state dir>/outbox); the next sync indexes it.

Options:
  --config FILE     config file (default ./lora-catalog.yaml; env LORA_CATALOG_CONFIG)
  --deadline D      overall time budget, e.g. 10s or 2500ms (default 10s)
  --outbox DIR      outbox directory (overrides config outbox_dir)
  --json            print the result as one JSON object
  -h, --help        this help
`,
  retention: `Usage: lora-catalog retention [options]

Retires runs tagged with any of config.retention.tags (default debug, test) created more than
config.retention.days ago (default 30): their documents stay, marked state retired (retired_at,
retired_reason), out of search, best and rollups; later syncs keep them out ("retired (kept out)")
unless their files change. Where the cluster has ILM it also installs the lora-catalog-retention
lifecycle policy; the per-run retirement is done by lora-catalog either way.

Options:
  --config FILE     config file (default ./lora-catalog.yaml; env LORA_CATALOG_CONFIG)
  --dry-run         count what would be retired, change nothing
  --json            print the report as one JSON object
  -h, --help        this help

Exit codes: 0 ok, 1 failed, 2 usage.
`,
};

/** `schedule`, `report` and `retention`; returns the exit code. */
export async function runJobsCommand(cmd: JobsCommand, argv: string[], deps: JobsCommandDeps): Promise<number> {
  switch (cmd) {
    case 'schedule':
      return scheduleCommand(argv, deps);
    case 'report':
      return reportCommand(argv, deps);
    case 'retention':
      return retentionCommand(argv, deps);
  }
}

/** The default context: config file, client on the configured URL (else the local engine's port). */
export async function createDefaultContext(opts: ContextOptions): Promise<AppContext> {
  const config = opts.config ?? (await loadConfig(opts.configFile)).config;
  const url = config.elasticsearch.url ?? `http://127.0.0.1:${DEFAULT_ES_PORT}`;
  return {
    config,
    client: createEsClient(url, config.elasticsearch),
    log: createLogger({ level: opts.logLevel ?? 'info' }),
    now: () => new Date(),
    signal: opts.signal,
  };
}

// --- internal ---

const COMMON = { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

async function scheduleCommand(argv: string[], deps: JobsCommandDeps): Promise<number> {
  const args = parse(argv, { ...COMMON, 'no-catch-up': { type: 'boolean' } }, false, deps, 'schedule');
  if (typeof args === 'number') {
    return args;
  }
  let ctx: AppContext;
  try {
    ctx = deps.ctx ?? (await createDefaultContext({ config: deps.config, configFile: str(args.values.config), signal: new AbortController().signal }));
  } catch (err) {
    deps.io.stderr(`lora-catalog schedule: ${errorMessage(err)}`);
    return 1;
  }
  const { startScheduler, loadScheduledJobs } = await import('../../jobs/schedule.ts');
  const jobs = await (deps.loadJobs ?? loadScheduledJobs)();
  const scheduler = startScheduler(ctx, jobs, { handleSignals: true, catchUp: args.values['no-catch-up'] !== true });
  await scheduler.stopped;
  if (!deps.ctx) {
    await ctx.client.close();
  }
  return 0;
}

async function reportCommand(argv: string[], deps: JobsCommandDeps): Promise<number> {
  // The deadline covers the whole command: config, reading, Elasticsearch and closing the client.
  const startedAt = Date.now();
  const args = parse(argv, { ...COMMON, deadline: { type: 'string' }, outbox: { type: 'string' }, json: { type: 'boolean' } }, true, deps, 'report');
  if (typeof args === 'number') {
    return 0;
  }
  const [runDir, ...rest] = args.positionals;
  if (runDir === undefined || rest.length > 0) {
    deps.io.stderr('warning: lora-catalog report: expected exactly one run directory');
    return 0;
  }
  const deadline = str(args.values.deadline);
  let deadlineMs: number | undefined;
  try {
    deadlineMs = deadline === undefined ? undefined : durationMs(deadline);
  } catch {
    deps.io.stderr(`warning: lora-catalog report: --deadline ${deadline} is not a duration, using 10s`);
  }
  let ctx: AppContext;
  try {
    ctx =
      deps.ctx ??
      (await createDefaultContext({ config: deps.config, configFile: str(args.values.config), signal: new AbortController().signal, logLevel: 'error' }));
  } catch (err) {
    deps.io.stderr(`warning: lora-catalog report: ${errorMessage(err)}; run not recorded`);
    return 0;
  }
  const deadlineAt = startedAt + (deadlineMs ?? DEFAULT_REPORT_DEADLINE_MS);
  try {
    const result = await reportRun(ctx, { runDir, deadlineAt, outboxDir: str(args.values.outbox) });
    for (const warning of result.warnings) {
      deps.io.stderr(`warning: lora-catalog report: ${warning}`);
    }
    if (args.values.json === true || deps.io.json === true) {
      deps.io.stdout(JSON.stringify(result));
    } else if (result.outcome !== 'skipped') {
      deps.io.stdout(`${result.outcome} run ${result.runId ?? ''}${result.file ? ` (${result.file})` : ''} in ${result.ms} ms`);
    }
  } finally {
    if (!deps.ctx) {
      // Requests still hanging end at the deadline (their timeout); never wait past it to close.
      await settleWithin(
        ctx.client.close().catch(() => undefined),
        Math.max(0, deadlineAt - Date.now()),
      );
    }
  }
  return 0;
}

async function retentionCommand(argv: string[], deps: JobsCommandDeps): Promise<number> {
  const args = parse(argv, { ...COMMON, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } }, false, deps, 'retention');
  if (typeof args === 'number') {
    return args;
  }
  let own: AppContext | undefined;
  try {
    own = deps.ctx ? undefined : await createDefaultContext({ config: deps.config, configFile: str(args.values.config), signal: new AbortController().signal });
    const ctx = deps.ctx ?? (own as AppContext);
    const report = await runRetention(ctx, { dryRun: args.values['dry-run'] === true });
    if (args.values.json === true || deps.io.json === true) {
      deps.io.stdout(JSON.stringify(report));
    } else {
      const ilm =
        report.mode === 'ilm'
          ? `ILM available: policy ${report.ilm.policy ?? '(dry run: not applied)'} covers time-based indices`
          : 'ILM not available on this cluster';
      deps.io.stdout(
        `retention mode ${report.mode} (${ilm}); per-run retention ran app-side: ${report.dryRun ? 'would retire' : 'retired'} ${report.dryRun ? report.matched : report.retired} runs tagged ${report.tags.join('/')} created before ${report.cutoff}${report.failed > 0 ? `, ${report.failed} failed` : ''}`,
      );
      for (const run of report.runs) {
        deps.io.stdout(
          `  ${report.dryRun ? 'would retire' : 'retired'} ${run.id.slice(0, 8)}  ${run.created_at?.slice(0, 10) ?? '-'}  ${run.location ?? '(no location)'}`,
        );
      }
      if (report.matched > report.runs.length) {
        deps.io.stdout(`  … ${report.matched - report.runs.length} more (--json lists the first ${report.runs.length})`);
      }
    }
    return report.failed > 0 ? 1 : 0;
  } catch (err) {
    deps.io.stderr(`lora-catalog retention: ${errorMessage(err)}`);
    return 1;
  } finally {
    await own?.client.close().catch(() => undefined);
  }
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

function parse<O extends Options>(argv: string[], options: O, positionals: boolean, deps: JobsCommandDeps, cmd: JobsCommand) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: positionals, strict: true });
  } catch (err) {
    deps.io.stderr(`${cmd === 'report' ? 'warning: ' : ''}lora-catalog ${cmd}: ${errorMessage(err)}\n\n${JOBS_USAGE[cmd].trimEnd()}`);
    return 2;
  }
  if ((parsed.values as Record<string, unknown>).help === true) {
    deps.io.stdout(JOBS_USAGE[cmd].trimEnd());
    return 0;
  }
  return parsed;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
