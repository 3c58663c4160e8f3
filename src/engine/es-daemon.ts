import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EngineEnv } from '../config/env.ts';
import { MODULE_EXT } from '../module-ext.ts';
import { ensureElasticsearchInstalled, isHealthy, startElasticsearch } from './elasticsearch.ts';
import type { EnginePaths } from './paths.ts';
import { groupAlive, stopProcessGroup } from './process.ts';
import { EsStateJson, type EsState } from './schema.ts';

export interface StartDetachedOptions {
  paths: EnginePaths;
  env: EngineEnv;
  /** HTTP port; 0 = a free one; default `DEFAULT_ES_PORT`. */
  port?: number;
  /** Stop it after this long without a command using it; null or absent: runs until `es stop`. */
  idleTimeoutMs?: number | null;
  /** JVM heap; default 512m initial, 1g max. */
  heap?: { min: string; max: string };
  /** Maven mirror for the first download. */
  repositoryUrl?: string;
}

export interface StartDetachedResult {
  state: EsState;
  /** True when a healthy instance from an earlier start was found and left alone. */
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

/** A start that left its lock behind longer than this (a killed command) no longer blocks others. */
const START_LOCK_STALE_MS = 5 * 60_000;

/**
 * Starts Elasticsearch in the background, kept across CLI invocations via `<stateDir>/es.json`. There
 * is one local engine per state dir, with one data folder (`<stateDir>/es/data`): `es start`, the
 * quick start and every command without a configured cluster use the same one. With an idle timeout,
 * a small detached watcher stops it once no command has used it for that long.
 */
export async function startDetachedElasticsearch(opts: StartDetachedOptions): Promise<StartDetachedResult> {
  await mkdir(opts.paths.stateDir, { recursive: true, mode: 0o755 });
  const unlock = await lockStart(opts.paths.stateDir);
  try {
    const existing = await esStatus(opts.paths.stateDir);
    if (existing.state !== null && existing.healthy) {
      await markEngineUsed(opts.paths.stateDir);
      return { state: existing.state, alreadyRunning: true };
    }
    if (existing.state !== null && existing.running) {
      await stopProcessGroup(existing.state.pid);
    }
    const home = await ensureElasticsearchInstalled({
      ...opts.paths,
      ...(opts.repositoryUrl === undefined ? {} : { repositoryUrl: opts.repositoryUrl }),
      ...(opts.env.mavenRepository === undefined ? {} : { repositoryUrl: opts.env.mavenRepository }),
    });
    const dirs = localEngineDirs(opts.paths.stateDir);
    const port = opts.port ?? DEFAULT_ES_PORT;
    const service = await startElasticsearch({
      home,
      ...(port > 0 ? { port } : {}),
      ...dirs,
      env: opts.env.childEnv,
      ...(opts.heap ? { heap: opts.heap } : {}),
      detached: true,
      // A loaded 2-core machine can take over a minute to boot it; a fresh unpack takes longer still.
      timeoutMs: 240_000,
    });
    const state: EsState = {
      pid: service.pid,
      url: service.url,
      home,
      dataDir: dirs.dataDir,
      logFile: service.logFile,
      startedAt: new Date().toISOString(),
      idleTimeoutMs: opts.idleTimeoutMs ?? null,
    };
    await writeFile(stateFile(opts.paths.stateDir), `${JSON.stringify(state, null, 2)}\n`);
    await markEngineUsed(opts.paths.stateDir);
    if (state.idleTimeoutMs !== null) {
      startIdleWatcher(opts.paths.stateDir, state.pid, opts.env.childEnv);
    }
    return { state, alreadyRunning: false };
  } finally {
    await unlock();
  }
}

/** The one local engine's folders: every start (detached or for one command) uses these, so there is one data folder. */
export function localEngineDirs(stateDir: string): { dataDir: string; logsDir: string; configDir: string } {
  const instance = path.join(stateDir, 'es');
  return { dataDir: path.join(instance, 'data'), logsDir: path.join(instance, 'logs'), configDir: path.join(instance, 'config') };
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

/** Records that a command used the engine now (the idle watcher measures from the last use). */
export async function markEngineUsed(stateDir: string): Promise<void> {
  const file = usedFile(stateDir);
  const now = new Date();
  try {
    await utimes(file, now, now);
  } catch {
    await writeFile(file, '').catch(() => undefined);
  }
}

/** Milliseconds since a command last used the engine, or null when none is recorded. */
export async function idleForMs(stateDir: string, now: Date = new Date()): Promise<number | null> {
  try {
    return now.getTime() - (await stat(usedFile(stateDir))).mtimeMs;
  } catch {
    return null;
  }
}

// --- internal ---

function stateFile(stateDir: string): string {
  return path.join(stateDir, 'es.json');
}

function usedFile(stateDir: string): string {
  return path.join(stateDir, 'es.used');
}

function startIdleWatcher(stateDir: string, pid: number, env: Record<string, string | undefined>): void {
  const script = new URL(`./idle-watcher${MODULE_EXT}`, import.meta.url);
  const child = spawn(process.execPath, [script.pathname, stateDir, String(pid)], { detached: true, stdio: 'ignore', env });
  child.unref();
}

/** One start at a time per state dir: two commands starting at once would fight over the data folder. */
async function lockStart(stateDir: string): Promise<() => Promise<void>> {
  const lock = path.join(stateDir, 'es.starting');
  for (;;) {
    try {
      await mkdir(lock);
      return async () => rm(lock, { recursive: true, force: true });
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') {
        throw err;
      }
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > START_LOCK_STALE_MS) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
