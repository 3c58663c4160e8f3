import os from 'node:os';
import path from 'node:path';

export interface EnginePathsOptions {
  /** Explicit cache dir (CLI option); wins over everything. */
  cacheDir?: string;
  /** Value of `LORA_CATALOG_CACHE_DIR` (see `readEngineEnv`). */
  envCacheDir?: string;
  /** Value of `LORA_CATALOG_STATE_DIR`: the engine's data and state elsewhere than `<cacheDir>/state`. */
  envStateDir?: string;
  /** Value of `XDG_CACHE_HOME`; used for non-root users only. */
  xdgCacheHome?: string;
  /** Home directory; default `os.homedir()`. */
  home?: string;
  /** Effective uid; default `process.getuid()`. */
  uid?: number;
}

export interface EnginePaths {
  /** Downloaded Maven artifacts (`<artifactId>-<version>[-<classifier>].<ext>` + `.sha512`). */
  cacheDir: string;
  /** Unpacked engines, e.g. `<cacheDir>/engine/elasticsearch-8.19.21`. */
  engineDir: string;
  /** State of detached services (`es.json`) and their data/logs. */
  stateDir: string;
}

/**
 * Root's home is mode 700, and Elasticsearch runs as `nobody` when we are root, so root's cache must
 * live somewhere `nobody` can read.
 */
export const ROOT_CACHE_DIR = '/var/cache/lora-catalog';

export function resolveEnginePaths(opts: EnginePathsOptions = {}): EnginePaths {
  const cacheDir = path.resolve(opts.cacheDir ?? opts.envCacheDir ?? defaultCacheDir(opts));
  return {
    cacheDir,
    engineDir: path.join(cacheDir, 'engine'),
    stateDir: opts.envStateDir === undefined ? path.join(cacheDir, 'state') : path.resolve(opts.envStateDir),
  };
}

/** The paths for this process's environment (`readEngineEnv()`): cache, engine and state dirs. */
export function enginePathsFromEnv(env: { cacheDir?: string; stateDir?: string; xdgCacheHome?: string; home?: string }, cacheDir?: string): EnginePaths {
  return resolveEnginePaths({
    ...(cacheDir === undefined ? {} : { cacheDir }),
    ...(env.cacheDir === undefined ? {} : { envCacheDir: env.cacheDir }),
    ...(env.stateDir === undefined ? {} : { envStateDir: env.stateDir }),
    ...(env.xdgCacheHome === undefined ? {} : { xdgCacheHome: env.xdgCacheHome }),
    ...(env.home === undefined ? {} : { home: env.home }),
  });
}

export function isRoot(uid: number | undefined = currentUid()): boolean {
  return uid === 0;
}

// --- internal ---

function defaultCacheDir(opts: EnginePathsOptions): string {
  if (isRoot(opts.uid ?? currentUid())) {
    return ROOT_CACHE_DIR;
  }
  const base = opts.xdgCacheHome ?? path.join(opts.home ?? os.homedir(), '.cache');
  return path.join(base, 'lora-catalog');
}

function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}
