import path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { readEngineEnv } from '../config/env.ts';
import type { Config } from '../config/schema.ts';
import { esStatus } from '../engine/es-daemon.ts';
import { ensureElasticsearchInstalled, ES_VERSION, startElasticsearch } from '../engine/elasticsearch.ts';
import { resolveEnginePaths } from '../engine/paths.ts';
import type { RunningService } from '../engine/process.ts';
import { createEsClient } from '../es/client.ts';

export interface Connection {
  client: Client;
  url: string;
  /** How the cluster was reached: the configured URL, an `es start` engine, or one started for this command. */
  kind: 'configured' | 'local-running' | 'local-started';
  /** Stops an engine started for this command (no-op otherwise). */
  close(): Promise<void>;
}

/**
 * Connects to the configured cluster, or to the embedded local engine: an engine left running by
 * `lora-catalog es start` is reused; otherwise one is fetched (first time), started for this command
 * on a free loopback port with its data kept in the state directory, and stopped afterwards.
 */
export async function connect(config: Config, log: (line: string) => void): Promise<Connection> {
  if (config.elasticsearch.url) {
    const client = createEsClient(config.elasticsearch.url, config.elasticsearch);
    return { client, url: config.elasticsearch.url, kind: 'configured', close: async () => client.close() };
  }
  const env = readEngineEnv();
  const paths = resolveEnginePaths({ envCacheDir: env.cacheDir, xdgCacheHome: env.xdgCacheHome, home: env.home });
  const running = await esStatus(paths.stateDir);
  if (running.healthy && running.state) {
    const client = createEsClient(running.state.url);
    return { client, url: running.state.url, kind: 'local-running', close: async () => client.close() };
  }
  log(`Starting the local Elasticsearch ${ES_VERSION} (fetched once from ${config.elasticsearch.local.repository}, then cached)…`);
  const home = await ensureElasticsearchInstalled({ ...paths, repositoryUrl: env.mavenRepository ?? config.elasticsearch.local.repository });
  const instance = path.join(paths.stateDir, 'embedded');
  const service: RunningService = await startElasticsearch({
    home,
    ...(config.elasticsearch.local.port > 0 ? { port: config.elasticsearch.local.port } : {}),
    dataDir: path.join(instance, 'data'),
    logsDir: path.join(instance, 'logs'),
    configDir: path.join(instance, 'config'),
    heap: { min: '512m', max: config.elasticsearch.local.heap },
    env: env.childEnv,
    // A loaded 2-core machine can take over a minute to boot it; a fresh unpack takes longer still.
    timeoutMs: 240_000,
  });
  const client = createEsClient(service.url);
  return {
    client,
    url: service.url,
    kind: 'local-started',
    async close() {
      await client.close();
      await service.stop();
    },
  };
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
