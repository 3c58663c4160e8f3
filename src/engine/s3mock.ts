import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { resolveJava } from './java.ts';
import type { MavenArtifact } from './maven.ts';
import { freePort, spawnService, stopProcessGroup, waitReady, type RunningService } from './process.ts';

export interface StartS3MockOptions {
  /** The `exec` jar, from `fetchMavenArtifact({ ...S3MOCK_ARTIFACT, cacheDir })`. */
  jarPath: string;
  /** HTTP port; default a free port. */
  port?: number;
  /** Where buckets and objects are kept (`COM_ADOBE_TESTING_S3MOCK_STORE_ROOT`). Created if missing. */
  storeRoot: string;
  /** Where `console.log` goes; default `<storeRoot>/../s3mock-logs`. */
  logsDir?: string;
  /** Java home; default the environment's, else `java` on PATH. */
  javaHome?: string;
  /** Environment for the process (normally `readEngineEnv().childEnv`). */
  env?: Record<string, string | undefined>;
  /** Readiness timeout in ms; default `S3MOCK_START_TIMEOUT_MS`. */
  timeoutMs?: number;
}

export const S3MOCK_ARTIFACT = {
  groupId: 'com.adobe.testing',
  artifactId: 's3mock',
  version: '5.2.0',
  classifier: 'exec',
  extension: 'jar',
} as const satisfies Omit<MavenArtifact, 'cacheDir'>;

/** Starts in ~5–10 s; generous for a loaded CI machine. */
export const S3MOCK_START_TIMEOUT_MS = 90_000;

/**
 * Starts S3Mock with its plain-HTTP S3 API on `port`. S3Mock also opens an HTTPS connector
 * (`server.port`, default 9191); it is moved to a random port on 127.0.0.1 so two instances never
 * clash. Note S3Mock binds its HTTP connector on all interfaces; only loopback is ever used.
 */
export async function startS3Mock(opts: StartS3MockOptions): Promise<RunningService> {
  const env = opts.env ?? {};
  const java = await resolveJava({ javaHome: opts.javaHome, envJavaHome: env['ES_JAVA_HOME'] ?? env['JAVA_HOME'], pathEnv: env['PATH'] });
  const port = opts.port ?? (await freePort());
  const logsDir = opts.logsDir ?? path.join(opts.storeRoot, '..', 's3mock-logs');
  await mkdir(opts.storeRoot, { recursive: true });
  await mkdir(logsDir, { recursive: true });
  const logFile = path.join(logsDir, 'console.log');
  const url = `http://127.0.0.1:${port}`;

  const spawned = spawnService({
    name: 's3mock',
    command: java.java,
    args: ['-Xmx512m', '-jar', opts.jarPath, '--server.address=127.0.0.1', '--server.port=0', `--com.adobe.testing.s3mock.httpPort=${port}`],
    env: { ...env, COM_ADOBE_TESTING_S3MOCK_STORE_ROOT: opts.storeRoot },
    cwd: logsDir,
    logFile,
  });
  await waitReady({ name: 's3mock', spawned, logFile, check: async () => answersListBuckets(url), timeoutMs: opts.timeoutMs ?? S3MOCK_START_TIMEOUT_MS });
  return { url, pid: spawned.pid, logFile, stop: async () => stopProcessGroup(spawned.pid) };
}

// --- internal ---

/** `GET /` is S3's ListBuckets; S3Mock answers it without auth. */
async function answersListBuckets(url: string): Promise<boolean> {
  const response = await fetch(`${url}/`, { signal: AbortSignal.timeout(5_000) });
  return response.ok && (await response.text()).includes('ListAllMyBucketsResult');
}
