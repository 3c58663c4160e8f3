import { parseArgs } from 'node:util';
import { readEngineEnv } from '../config/env.ts';
import { durationMs } from '../config/schema.ts';
import { errorMessage, PipelineError } from '../errors.ts';
import { esStatus, startDetachedElasticsearch, stopDetachedElasticsearch, DEFAULT_ES_PORT } from '../engine/es-daemon.ts';
import { enginePathsFromEnv } from '../engine/paths.ts';

export interface EsCommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Print one JSON object instead of human text. */
  json: boolean;
}

export const ES_USAGE = `Usage: lora-catalog es <start|stop|status> [options]

Runs a local single-node Elasticsearch (integ-test build from Maven Central) on 127.0.0.1.

  start       download (first time), start in the background, wait until healthy
  status      report whether it runs and answers _cluster/health
  stop        stop it (SIGTERM to its process group)

Options:
  --port N        HTTP port for start (default ${DEFAULT_ES_PORT})
  --cache-dir D   engine cache and state (default /var/cache/lora-catalog as root,
                  else $XDG_CACHE_HOME/lora-catalog; env LORA_CATALOG_CACHE_DIR)
  -h, --help      this help

Needs Java 17+ (JAVA_HOME, ES_JAVA_HOME or java on PATH).
Exit codes: 0 ok, 1 not running or failed, 2 usage.
`;

/** `es start|stop|status`; returns the exit code. */
export async function runEsCommand(argv: string[], io: EsCommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        'idle-timeout': { type: 'string' },
        'cache-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return usage(io, errorMessage(err));
  }
  const [command, ...rest] = parsed.positionals;
  if (parsed.values.help === true) {
    io.stdout(ES_USAGE);
    return 0;
  }
  if (command === undefined || rest.length > 0) {
    return usage(io, command === undefined ? 'missing subcommand' : `unexpected argument: ${rest.join(' ')}`);
  }
  const port = parsed.values.port === undefined ? undefined : Number(parsed.values.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    return usage(io, `--port must be a TCP port, got ${parsed.values.port}`);
  }
  const idleText = parsed.values['idle-timeout'];
  if (idleText !== undefined && !/^\d+(ms|s|m|h|d|w)$/.test(idleText)) {
    return usage(io, `--idle-timeout must be a duration such as 30m or 2h, got ${idleText}`);
  }
  const idleTimeoutMs = idleText === undefined ? null : durationMs(idleText) || null;
  const env = readEngineEnv();
  const paths = enginePathsFromEnv(env, parsed.values['cache-dir']);

  try {
    switch (command) {
      case 'start': {
        const { state, alreadyRunning } = await startDetachedElasticsearch({ paths, env, port, idleTimeoutMs });
        report(io, { ok: true, running: true, alreadyRunning, ...state }, () =>
          alreadyRunning
            ? `Elasticsearch already running at ${state.url} (pid ${state.pid})`
            : `Elasticsearch started at ${state.url} (pid ${state.pid}); data ${state.dataDir}; log ${state.logFile}${state.idleTimeoutMs === null ? '' : `; stops after ${idleText} unused`}`,
        );
        return 0;
      }
      case 'status': {
        const status = await esStatus(paths.stateDir);
        report(io, { ok: status.healthy, running: status.running, healthy: status.healthy, ...status.state }, () =>
          status.state === null
            ? 'Elasticsearch is not running (no es start recorded)'
            : status.healthy
              ? `Elasticsearch running at ${status.state.url} (pid ${status.state.pid}), healthy; data ${status.state.dataDir}${status.state.idleTimeoutMs === null ? '; runs until es stop' : `; stops after ${Math.round(status.state.idleTimeoutMs / 60_000)} min unused`}`
              : status.running
                ? `Elasticsearch process ${status.state.pid} is running but ${status.state.url} is not healthy; log ${status.state.logFile}`
                : `Elasticsearch is not running (pid ${status.state.pid} is gone); log ${status.state.logFile}`,
        );
        return status.healthy ? 0 : 1;
      }
      case 'stop': {
        const state = await stopDetachedElasticsearch(paths.stateDir);
        report(io, { ok: state !== null, stopped: state !== null, ...state }, () =>
          state === null ? 'Elasticsearch is not running' : `Elasticsearch stopped (pid ${state.pid})`,
        );
        return state === null ? 1 : 0;
      }
      default:
        return usage(io, `unknown subcommand: ${command}`);
    }
  } catch (err) {
    const code = err instanceof PipelineError ? err.code : 'engine-start-failed';
    if (io.json) {
      io.stdout(`${JSON.stringify({ ok: false, error: { code, message: errorMessage(err) } })}\n`);
    } else {
      io.stderr(`es ${command}: ${errorMessage(err)}\n`);
    }
    return 1;
  }
}

// --- internal ---

function usage(io: EsCommandIo, problem: string): number {
  if (io.json) {
    io.stdout(`${JSON.stringify({ ok: false, error: { code: 'usage', message: problem } })}\n`);
  } else {
    io.stderr(`es: ${problem}\n\n${ES_USAGE}`);
  }
  return 2;
}

function report(io: EsCommandIo, data: Record<string, unknown>, human: () => string): void {
  io.stdout(io.json ? `${JSON.stringify(data)}\n` : `${human()}\n`);
}
