import { tuneThreadPool } from '../config/env.ts';
import { loadConfig, type LoadedConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { AppContext } from '../context.ts';
import { errorMessage, PipelineError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { runRollups } from '../rollups/run.ts';
import { connect, describeConnectFailure, type Connection } from './connect.ts';
import { indicesCommand, INDICES_USAGE } from './indices.ts';
import { maskingIo, processIo, type Io } from './io.ts';
import { exitProcess, installStopHandlers } from './signals.ts';
import { exampleConfig, parseSyncArgs, SYNC_USAGE, syncCommand } from './sync.ts';

const USAGE = `Usage: lora-catalog <command> [options]

Catalogue LoRA training runs (kohya sd-scripts, lora-scripts, HF Trainer/PEFT, LLaMA-Factory)
from local/NFS paths and S3 into Elasticsearch, and find them again.

Commands:
  sync                      crawl the sources and update the catalogue (see sync --help)
  search '<query>'          find runs: cyberpunk 建筑 rank:8 loss<0.05 (see search --help)
  show <run_id>             one run in full
  reproduce <run_id>        the run's original (redacted) config, ready to re-run
  best [--base b] [--rank r] [--top n]   best configurations for similar tasks
  similar <run_id>          runs like this one, with a score and why (prompts, tags, hyperparameters)
  compare <run_id> <run_id>…  configs side by side (keys that differ) and loss curves overlaid
  rollups [--full]          recompute derived metrics (normally done by sync)
  rollups show              rank, family × rank and lr × rank tables, with a heat map (--family, --rank)
  indices apply|status|migrate   index templates, versioned indices and aliases
  es start|stop|status      the embedded local Elasticsearch
  kibana deploy|export      dashboards as code, imported into Kibana
  schedule                  run the scheduler (nightly full, hourly incremental, rollups, retention)
  report <run-dir>          index one run now (post-training hook; never fails the training job)
  retention                 remove old debug/test runs from the catalogue
  init [<file>]             write a commented lora-catalog.yaml to start from
  config check              validate the config, check every source and the cluster answer, print it (secrets hidden)

Global options: --config <file>, --json, -h/--help, --version.
Output is text, on a terminal or piped (fitted to the terminal's width only on a terminal); --json gives JSON.
Without elasticsearch.url in the config (or LORA_CATALOG_ES_URL), commands use the embedded local
engine: an 'es start' engine if one runs, else one started for the command (needs Java 17+).
Exit codes: 0 ok (also a sync skipped because another sync holds a lease on one of its sources: it
prints "skipped: lease … held by … until …"), 1 failure, 2 usage or config error, 3 refused (see
sync --help), 4 Elasticsearch unreachable, 6 a root not listed completely (nothing of it marked
vanished), 143/130 stopped by SIGTERM/SIGINT.`;

const SEARCH_COMMANDS = ['search', 'show', 'reproduce', 'best', 'similar', 'compare'] as const;
const JOB_COMMANDS = ['schedule', 'report', 'retention'] as const;

export async function main(argv: string[]): Promise<number> {
  tuneThreadPool();
  const [command, ...rest] = argv;
  const json = rest.includes('--json');
  const io = maskingIo(processIo(json));
  if (argv.includes('--version') || command === '-V' || command === 'version') {
    const { packageVersion } = await import('./package-root.ts');
    io.stdout(
      json ? JSON.stringify({ version: packageVersion(), node: process.versions.node }) : `lora-catalog ${packageVersion()} (Node.js ${process.version})`,
    );
    return 0;
  }
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    io.stdout(USAGE);
    return command === undefined ? 2 : 0;
  }
  // Commands load their modules on demand: a post-training `report` should not pay for the dashboards.
  if (command === 'es') {
    const { runEsCommand } = await import('./es.ts');
    return runEsCommand(
      rest.filter((a) => a !== '--json'),
      { stdout: io.stdout, stderr: io.stderr, json },
    );
  }
  if (command === 'report') {
    // A training script's post-run hook: never wait for a health check or start an engine here.
    const { runJobsCommand } = await import('./jobs.ts');
    return runJobsCommand(
      'report',
      rest.filter((a) => a !== '--json'),
      { io },
    );
  }
  if (command === 'init') {
    const { runInit, INIT_USAGE } = await import('./init.ts');
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(INIT_USAGE);
      return 0;
    }
    return runInit(
      rest.filter((a) => a !== '--json'),
      io,
    );
  }
  if (command === 'kibana') {
    const { runKibanaCommand } = await import('./kibana.ts');
    return runKibanaCommand(
      rest.filter((a) => a !== '--json'),
      { stdout: io.stdout, stderr: io.stderr, json },
    );
  }
  const known = ['sync', 'rollups', 'indices', 'config', ...SEARCH_COMMANDS, ...JOB_COMMANDS];
  if (!known.includes(command)) {
    io.stderr(`lora-catalog: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    return delegateHelp(command, rest, io);
  }
  const { configFile, args } = extractConfigFlag(rest);
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig(configFile);
  } catch (err) {
    io.stderr(`lora-catalog: ${errorMessage(err)}`);
    return 2;
  }
  let config: Config = loaded.config;
  if (command === 'config') {
    if (args.find((a) => !a.startsWith('-')) !== 'check') {
      io.stderr('Usage: lora-catalog config check [--config <file>]');
      return 2;
    }
    const { configCheck } = await import('./config-check.ts');
    return configCheck(loaded, io);
  }
  let syncArgs = null;
  if (command === 'sync') {
    const parsed = parseSyncArgs(args, new Date());
    if (typeof parsed === 'string') {
      io.stderr(`lora-catalog sync: ${parsed}\n\n${SYNC_USAGE}`);
      return 2;
    }
    syncArgs = parsed;
    if (parsed.example) {
      config = exampleConfig(config);
    } else if (config.sources.length === 0) {
      io.stderr('lora-catalog sync: no sources configured (config key sources); try --example for the bundled runs');
      return 2;
    }
    const unknownSources = (parsed.options.sources ?? []).filter((name) => !config.sources.some((s) => s.name === name));
    if (unknownSources.length > 0) {
      io.stderr(`lora-catalog sync: --source ${unknownSources.join(', ')}: no such source; configured: ${config.sources.map((s) => s.name).join(', ')}`);
      return 2;
    }
  }
  let conn: Connection;
  try {
    conn = await connect(config, (line) => io.stderr(line));
    await conn.client.cluster.health({ timeout: '30s' });
  } catch (err) {
    const failure = describeConnectFailure(err);
    io.stderr(`lora-catalog: ${failure.message}`);
    return failure.exitCode;
  }
  const abort = new AbortController();
  const stopHandlers = installStopHandlers(abort, { stderr: io.stderr });
  const ctx: AppContext = { config, client: conn.client, log: createLogger({ level: json ? 'warn' : 'info' }), now: () => new Date(), signal: abort.signal };
  try {
    switch (command) {
      case 'sync':
        return await syncCommand(ctx, syncArgs as NonNullable<typeof syncArgs>, io);
      case 'rollups': {
        if (args[0] === 'show') {
          const { rollupsShowCommand } = await import('./rollups-show.ts');
          return await rollupsShowCommand(ctx, args.slice(1), io);
        }
        const report = await runRollups(ctx, { full: args.includes('--full') });
        io.stdout(
          json
            ? JSON.stringify(report)
            : `rollups (${report.mode}): ${report.dirtyRuns} runs written since the last rollup, ${report.buckets} buckets, ${report.curveDocs} loss-curve docs, ${report.deleted} removed`,
        );
        return 0;
      }
      case 'indices':
        return await indicesCommand(ctx, args, io);
      default:
        return await delegate(command, args, ctx, io);
    }
  } catch (err) {
    io.stderr(
      isMissingIndex(err)
        ? `lora-catalog ${command}: no catalogue yet in ${conn.url}: run \`lora-catalog sync\` (or \`lora-catalog sync --example\` for the bundled runs)`
        : `lora-catalog ${command}: ${errorMessage(err)}`,
    );
    return err instanceof PipelineError && err.code === 'mass-vanish' ? 3 : 1;
  } finally {
    stopHandlers.dispose();
    await conn.close();
  }
}

// --- internal ---

async function delegate(command: string, args: string[], ctx: AppContext, io: Io): Promise<number> {
  if ((SEARCH_COMMANDS as readonly string[]).includes(command)) {
    const { runSearchCommands } = await import('./search.ts');
    return runSearchCommands(
      command as (typeof SEARCH_COMMANDS)[number],
      args.filter((a) => a !== '--json'),
      {
        client: ctx.client,
        index: ctx.config.indices.runs,
        now: ctx.now(),
        stdout: io.stdout,
        stderr: io.stderr,
        json: io.json,
        tty: io.tty,
        columns: io.columns ?? undefined,
      },
    );
  }
  const { runJobsCommand } = await import('./jobs.ts');
  return runJobsCommand(
    command as (typeof JOB_COMMANDS)[number],
    args.filter((a) => a !== '--json'),
    { ctx, io },
  );
}

async function delegateHelp(command: string, rest: string[], io: Io): Promise<number> {
  if (command === 'sync') {
    io.stdout(SYNC_USAGE);
    return 0;
  }
  if (command === 'indices') {
    io.stdout(INDICES_USAGE);
    return 0;
  }
  if (command === 'config') {
    const { CONFIG_CHECK_USAGE } = await import('./config-check.ts');
    io.stdout(CONFIG_CHECK_USAGE);
    return 0;
  }
  if (command === 'rollups') {
    if (rest[0] === 'show') {
      const { ROLLUPS_SHOW_USAGE } = await import('./rollups-show.ts');
      io.stdout(ROLLUPS_SHOW_USAGE);
      return 0;
    }
    io.stdout(
      'Usage: lora-catalog rollups [--full] [--json] | rollups show (see rollups show --help)\nBrings the rollups up to date with every run written since they last completed (sync does this too);\n--full recomputes everything from the runs index. Exit 1 when a rollup document could not be written.',
    );
    return 0;
  }
  if ((SEARCH_COMMANDS as readonly string[]).includes(command)) {
    const { runSearchCommands } = await import('./search.ts');
    return runSearchCommands(command as (typeof SEARCH_COMMANDS)[number], ['--help'], {
      client: null as never,
      index: '',
      now: new Date(),
      stdout: io.stdout,
      stderr: io.stderr,
      json: false,
      tty: io.tty,
    });
  }
  const { runJobsCommand } = await import('./jobs.ts');
  return runJobsCommand(command as (typeof JOB_COMMANDS)[number], ['--help'], { ctx: null as never, io });
}

function extractConfigFlag(args: string[]): { configFile: string | undefined; args: string[] } {
  const out: string[] = [];
  let configFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--config') {
      configFile = args[++i];
    } else if (arg.startsWith('--config=')) {
      configFile = arg.slice('--config='.length);
    } else {
      out.push(arg);
    }
  }
  return { configFile, args: out };
}

/** Runs the command line and exits with its code (the entry point, `main.ts`, calls this). */
export function runCli(argv: string[]): void {
  main(argv).then(
    (code) => exitProcess(code),
    (err: unknown) => {
      process.stderr.write(`lora-catalog: ${errorMessage(err)}\n`);
      process.exit(1);
    },
  );
}

/** The engine answered, but the catalogue's index (or alias) does not exist: nothing was synced yet. */
function isMissingIndex(err: unknown): boolean {
  const body = (err as { meta?: { body?: { error?: { type?: string } } } } | null)?.meta?.body;
  return body?.error?.type === 'index_not_found_exception';
}
