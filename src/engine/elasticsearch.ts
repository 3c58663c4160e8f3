import { randomBytes } from 'node:crypto';
import { access, cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EngineError, errorMessage } from '../errors.ts';
import { resolveJava } from './java.ts';
import { fetchMavenArtifact, type MavenArtifact } from './maven.ts';
import { isRoot } from './paths.ts';
import { chownRecursive, freePort, nobodyUser, spawnService, stopProcessGroup, waitReady, type RunningService, type UnixUser } from './process.ts';
import { extractZip } from './unzip.ts';

export interface EnsureElasticsearchOptions {
  /** Where the zip is downloaded to (see `resolveEnginePaths`). */
  cacheDir: string;
  /** Where it is unpacked; the home is `<engineDir>/elasticsearch-<version>`. */
  engineDir: string;
  /** Maven mirror; default Maven Central. */
  repositoryUrl?: string;
}

export interface StartElasticsearchOptions {
  /** Unpacked distribution, from `ensureElasticsearchInstalled`. */
  home: string;
  /** HTTP port on 127.0.0.1; default a free port. */
  port?: number;
  /** `path.data`. Created if missing; owned by `nobody` when we are root. */
  dataDir: string;
  /** `path.logs`, also the JVM's working dir (gc.log) and home of `console.log`. */
  logsDir: string;
  /** `ES_PATH_CONF`, a per-instance copy of the distribution's config; default `<dataDir>/../config`. */
  configDir?: string;
  /** JVM heap; default 512m initial, 1g max. */
  heap?: { min: string; max: string };
  /** Java home; default `javaHome` from the environment, else `java` on PATH. */
  javaHome?: string;
  /** Environment for the process (normally `readEngineEnv().childEnv`). */
  env?: Record<string, string | undefined>;
  /** Keep running after this process exits (for `es start`). */
  detached?: boolean;
  /** Readiness timeout in ms; default `ES_START_TIMEOUT_MS`. */
  timeoutMs?: number;
}

export const ES_VERSION = '8.19.21';

/** The integ-test distribution: the smallest runnable Elasticsearch build on Maven Central. */
export const ES_ARTIFACT = {
  groupId: 'org.elasticsearch.distribution.integ-test-zip',
  artifactId: 'elasticsearch',
  version: ES_VERSION,
  extension: 'zip',
} as const satisfies Omit<MavenArtifact, 'cacheDir'>;

/** It starts in ~12 s on a 2-core machine; leave room for a slow CI neighbour. */
export const ES_START_TIMEOUT_MS = 90_000;

/** Marker written after a complete unpack, so a half-extracted tree is never used. */
const INSTALLED_MARKER = '.lora-catalog-installed';

/** Downloads (or reuses) the verified zip and unpacks it once; returns the Elasticsearch home. */
export async function ensureElasticsearchInstalled(opts: EnsureElasticsearchOptions): Promise<string> {
  const home = path.join(opts.engineDir, `elasticsearch-${ES_VERSION}`);
  if (await exists(path.join(home, INSTALLED_MARKER))) {
    return home;
  }
  const zip = await fetchMavenArtifact({ ...ES_ARTIFACT, cacheDir: opts.cacheDir, repositoryUrl: opts.repositoryUrl });
  const staging = path.join(opts.engineDir, `.unpack-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await extractZip(zip, staging);
    await writeFile(path.join(staging, `elasticsearch-${ES_VERSION}`, INSTALLED_MARKER), new Date().toISOString());
    await rm(home, { recursive: true, force: true });
    await rename(path.join(staging, `elasticsearch-${ES_VERSION}`), home);
  } catch (err) {
    // Another process may have finished the same unpack first.
    if (!(await exists(path.join(home, INSTALLED_MARKER)))) {
      throw err;
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return home;
}

/** Starts a single-node, security-less Elasticsearch on loopback and waits for `_cluster/health`. */
export async function startElasticsearch(opts: StartElasticsearchOptions): Promise<RunningService> {
  const env = opts.env ?? {};
  const java = await resolveJava({ javaHome: opts.javaHome, envJavaHome: env['ES_JAVA_HOME'] ?? env['JAVA_HOME'], pathEnv: env['PATH'] });
  const port = opts.port ?? (await freePort());
  const transportPort = await freePort();
  const configDir = opts.configDir ?? path.join(opts.dataDir, '..', 'config');
  const tmpDir = path.join(opts.logsDir, 'tmp');
  const runAs = isRoot() ? await nobodyUser() : undefined;
  await prepareDirs(opts.home, [opts.dataDir, opts.logsDir, configDir, tmpDir], configDir, runAs);
  const heap = opts.heap ?? { min: '512m', max: '1g' };
  const logFile = path.join(opts.logsDir, 'console.log');
  const url = `http://127.0.0.1:${port}`;

  const spawned = spawnService({
    name: 'elasticsearch',
    command: path.join(opts.home, 'bin', 'elasticsearch'),
    args: esSettings({
      'discovery.type': 'single-node',
      'xpack.security.enabled': 'false',
      'network.host': '127.0.0.1',
      'http.port': String(port),
      'transport.port': String(transportPort),
      'path.data': opts.dataDir,
      'path.logs': opts.logsDir,
      'cluster.name': 'lora-catalog-engine',
      'cluster.routing.allocation.disk.threshold_enabled': 'false',
    }),
    env: {
      ...env,
      ES_JAVA_HOME: java.home,
      ES_JAVA_OPTS: `-Xms${heap.min} -Xmx${heap.max}`,
      ES_PATH_CONF: configDir,
      ES_TMPDIR: tmpDir,
      JAVA_TOOL_OPTIONS: undefined,
    },
    cwd: opts.logsDir,
    logFile,
    runAs,
    detached: opts.detached,
  });
  await waitReady({
    name: 'elasticsearch',
    spawned,
    logFile,
    check: async () => isHealthy(url),
    timeoutMs: opts.timeoutMs ?? ES_START_TIMEOUT_MS,
  });
  return { url, pid: spawned.pid, logFile, stop: async () => stopProcessGroup(spawned.pid) };
}

/** True when `GET _cluster/health` answers green or yellow (this build has no `GET /`). */
export async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/_cluster/health`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) {
      return false;
    }
    const body = (await response.json()) as { status?: string };
    return body.status === 'green' || body.status === 'yellow';
  } catch {
    return false;
  }
}

// --- internal ---

function esSettings(settings: Record<string, string>): string[] {
  return Object.entries(settings).flatMap(([key, value]) => ['-E', `${key}=${value}`]);
}

/** Elasticsearch refuses to run as root, so as root every dir it writes belongs to `nobody`. */
async function prepareDirs(home: string, dirs: string[], configDir: string, runAs: UnixUser | undefined): Promise<void> {
  for (const dir of dirs) {
    await mkdir(dir, { recursive: true, mode: 0o755 });
  }
  if (!(await exists(path.join(configDir, 'elasticsearch.yml')))) {
    await cp(path.join(home, 'config'), configDir, { recursive: true });
  }
  if (runAs === undefined) {
    return;
  }
  try {
    for (const dir of dirs) {
      await chownRecursive(dir, runAs);
    }
  } catch (err) {
    throw new EngineError('engine-start-failed', `[elasticsearch] cannot hand its dirs to nobody: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
