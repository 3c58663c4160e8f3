import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { readEngineEnv } from '../../src/config/env.ts';
import { startElasticsearch } from '../../src/engine/elasticsearch.ts';
import { enginePathsFromEnv } from '../../src/engine/paths.ts';
import { prefetchEngine } from '../../src/engine/prefetch.ts';
import type { RunningService } from '../../src/engine/process.ts';
import { startS3Mock } from '../../src/engine/s3mock.ts';

/**
 * Starts one Elasticsearch and one S3Mock for the whole integration run, on free loopback ports with
 * fresh data. A service that cannot start fails the run (with its log tail); nothing is skipped.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = readEngineEnv();
  const paths = enginePathsFromEnv(env);
  const install = await prefetchEngine(paths, env);
  const base = await mkdtemp(path.join(os.tmpdir(), 'lora-catalog-it-'));
  // Elasticsearch runs as nobody when we are root; it must be able to reach its dirs.
  await chmod(base, 0o755);

  const [es, s3] = await Promise.allSettled([
    startElasticsearch({
      home: install.esHome,
      dataDir: path.join(base, 'es', 'data'),
      logsDir: path.join(base, 'es', 'logs'),
      env: env.childEnv,
      // On a loaded 2-core machine a cold start can take minutes; a slow start is not a failure.
      timeoutMs: 300_000,
    }),
    startS3Mock({ jarPath: install.s3mockJar, storeRoot: path.join(base, 's3', 'store'), env: env.childEnv, timeoutMs: 300_000 }),
  ]);
  const started = [es, s3].flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failures = [es, s3].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (es.status === 'rejected' || s3.status === 'rejected') {
    await stopAll(started);
    throw new Error(
      `integration services failed to start (data in ${base}):\n${failures.map((f) => (f instanceof Error ? f.message : String(f))).join('\n\n')}`,
      { cause: failures[0] },
    );
  }

  project.provide('esUrl', es.value.url);
  project.provide('esPid', es.value.pid);
  project.provide('s3Endpoint', s3.value.url);
  return async () => {
    await stopAll(started);
    await rm(base, { recursive: true, force: true });
  };
}

// --- internal ---

async function stopAll(services: RunningService[]): Promise<void> {
  await Promise.all(services.map(async (service) => service.stop()));
}
