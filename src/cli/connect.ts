import type { Client } from '@elastic/elasticsearch';
import { readEngineEnv } from '../config/env.ts';
import { durationMs, type Config } from '../config/schema.ts';
import { esStatus, localEngineDirs, markEngineUsed, startDetachedElasticsearch } from '../engine/es-daemon.ts';
import { ensureElasticsearchInstalled, ES_VERSION, startElasticsearch } from '../engine/elasticsearch.ts';
import { enginePathsFromEnv } from '../engine/paths.ts';
import type { RunningService } from '../engine/process.ts';
import { createEsClient } from '../es/client.ts';

export interface Connection {
  client: Client;
  url: string;
  /** How the cluster was reached: the configured URL, an `es start` engine, or one started for this command. */
  kind: 'configured' | 'local-running' | 'local-started';
  /** Closes the client; stops an engine started for this command only (idle_timeout 0s). */
  close(): Promise<void>;
}

/**
 * Connects to the configured cluster, or to the one embedded local engine: a running one (from
 * `es start`, the quick start or an earlier command) is reused; otherwise one is fetched (first time)
 * and started in the background on a free loopback port, with its data in `<stateDir>/es`, and left
 * up for the next commands until `elasticsearch.local.idle_timeout` passes unused (`0s`: stopped when
 * this command ends).
 */
export async function connect(config: Config, log: (line: string) => void): Promise<Connection> {
  if (config.elasticsearch.url) {
    const client = createEsClient(config.elasticsearch.url, config.elasticsearch);
    return { client, url: config.elasticsearch.url, kind: 'configured', close: async () => client.close() };
  }
  const env = readEngineEnv();
  const paths = enginePathsFromEnv(env);
  const running = await esStatus(paths.stateDir);
  if (running.healthy && running.state) {
    return localConnection(running.state.url, paths.stateDir, 'local-running', async () => undefined);
  }
  const local = config.elasticsearch.local;
  const idleTimeoutMs = durationMs(local.idle_timeout);
  const heap = { min: '512m', max: local.heap };
  if (idleTimeoutMs === 0) {
    log(`Starting the local Elasticsearch ${ES_VERSION} for this command (elasticsearch.local.idle_timeout is 0s)…`);
    const home = await ensureElasticsearchInstalled({ ...paths, repositoryUrl: env.mavenRepository ?? local.repository });
    const service: RunningService = await startElasticsearch({
      home,
      ...(local.port > 0 ? { port: local.port } : {}),
      ...localEngineDirs(paths.stateDir),
      heap,
      env: env.childEnv,
      // A loaded 2-core machine can take over a minute to boot it; a fresh unpack takes longer still.
      timeoutMs: 240_000,
    });
    return localConnection(service.url, paths.stateDir, 'local-started', async () => service.stop());
  }
  log(
    `Starting the local Elasticsearch ${ES_VERSION} (fetched once from ${local.repository}, then cached; data in ${localEngineDirs(paths.stateDir).dataDir})…`,
  );
  const { state } = await startDetachedElasticsearch({ paths, env, port: local.port, idleTimeoutMs, heap, repositoryUrl: local.repository });
  log(
    `Elasticsearch is up at ${state.url}; it stays up for the next commands and stops after ${local.idle_timeout} unused (lora-catalog es stop stops it now).`,
  );
  return localConnection(state.url, paths.stateDir, 'local-started', async () => undefined);
}

/** Why the first request to the cluster failed, as the exit code and the line the CLI prints. */
export interface ConnectFailure {
  /** 2: the configuration is wrong (credentials refused); 4: the cluster did not answer. */
  exitCode: 2 | 4;
  message: string;
}

/**
 * Tells refused credentials (HTTP 401/403: fix the config, exit 2) from an unreachable cluster
 * (exit 4, worth a retry). The engine's own reason is kept; no credential is ever part of it.
 */
export function describeConnectFailure(err: unknown): ConnectFailure {
  const status = (err as { meta?: { statusCode?: number } } | null)?.meta?.statusCode;
  if (status === 401 || status === 403) {
    return {
      exitCode: 2,
      message: `Elasticsearch refused the credentials (HTTP ${status}): check elasticsearch.api_key or elasticsearch.username/password (env LORA_CATALOG_ES_API_KEY, LORA_CATALOG_ES_USERNAME, LORA_CATALOG_ES_PASSWORD)`,
    };
  }
  const reason = err instanceof Error ? err.message : String(err);
  return { exitCode: 4, message: `Elasticsearch unreachable: ${reason}` };
}

// --- internal ---

/** How often a command that uses the local engine tells its idle watcher it is still in use. */
const KEEPALIVE_MS = 60_000;

function localConnection(url: string, stateDir: string, kind: Connection['kind'], stop: () => Promise<void>): Connection {
  const client = createEsClient(url);
  void markEngineUsed(stateDir);
  const keepalive = setInterval(() => void markEngineUsed(stateDir), KEEPALIVE_MS);
  keepalive.unref();
  return {
    client,
    url,
    kind,
    async close() {
      clearInterval(keepalive);
      await client.close();
      await markEngineUsed(stateDir);
      await stop();
    },
  };
}
