import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EngineEnv } from '../config/env.ts';
import { ensureElasticsearchInstalled, isHealthy, startElasticsearch } from './elasticsearch.ts';
import type { EnginePaths } from './paths.ts';
import { groupAlive, stopProcessGroup } from './process.ts';
import { EsStateJson, type EsState } from './schema.ts';

export interface StartDetachedOptions {
  paths: EnginePaths;
  env: EngineEnv;
  /** HTTP port; default `DEFAULT_ES_PORT`. */
  port?: number;
}

export interface StartDetachedResult {
  state: EsState;
  /** True when a healthy instance from an earlier `es start` was found and left alone. */
  alreadyRunning: boolean;
}

export interface EsStatus {
  /** The process group from the state file still exists. */
  running: boolean;
  /** `_cluster/health` answered green or yellow. */
  healthy: boolean;
  state: EsState | null;
}

/** The port Elasticsearch clients assume when none is configured. */
export const DEFAULT_ES_PORT = 9200;

/** Starts Elasticsearch in the background, kept across CLI invocations via `<stateDir>/es.json`. */
export async function startDetachedElasticsearch(opts: StartDetachedOptions): Promise<StartDetachedResult> {
  const existing = await esStatus(opts.paths.stateDir);
  if (existing.state !== null && existing.healthy) {
    return { state: existing.state, alreadyRunning: true };
  }
  if (existing.state !== null && existing.running) {
    await stopProcessGroup(existing.state.pid);
  }
  const home = await ensureElasticsearchInstalled({ ...opts.paths, repositoryUrl: opts.env.mavenRepository });
  const instanceDir = path.join(opts.paths.stateDir, 'es');
  await mkdir(opts.paths.stateDir, { recursive: true, mode: 0o755 });
  const dataDir = path.join(instanceDir, 'data');
  const service = await startElasticsearch({
    home,
    port: opts.port ?? DEFAULT_ES_PORT,
    dataDir,
    logsDir: path.join(instanceDir, 'logs'),
    configDir: path.join(instanceDir, 'config'),
    env: opts.env.childEnv,
    detached: true,
  });
  const state: EsState = {
    pid: service.pid,
    url: service.url,
    home,
    dataDir,
    logFile: service.logFile,
    startedAt: new Date().toISOString(),
  };
  await writeFile(stateFile(opts.paths.stateDir), `${JSON.stringify(state, null, 2)}\n`);
  return { state, alreadyRunning: false };
}

export async function esStatus(stateDir: string): Promise<EsStatus> {
  const state = await readEsState(stateDir);
  if (state === null) {
    return { running: false, healthy: false, state: null };
  }
  const running = groupAlive(state.pid);
  return { running, healthy: running && (await isHealthy(state.url)), state };
}

/** Stops the background instance; returns its state, or null when none was recorded. */
export async function stopDetachedElasticsearch(stateDir: string): Promise<EsState | null> {
  const state = await readEsState(stateDir);
  if (state === null) {
    return null;
  }
  await stopProcessGroup(state.pid);
  await rm(stateFile(stateDir), { force: true });
  return state;
}

export async function readEsState(stateDir: string): Promise<EsState | null> {
  let text: string;
  try {
    text = await readFile(stateFile(stateDir), 'utf8');
  } catch {
    return null;
  }
  const parsed = EsStateJson.safeParse(text);
  return parsed.success ? parsed.data : null;
}

// --- internal ---

function stateFile(stateDir: string): string {
  return path.join(stateDir, 'es.json');
}
