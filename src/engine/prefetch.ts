import type { EngineEnv } from '../config/env.ts';
import { ensureElasticsearchInstalled } from './elasticsearch.ts';
import { fetchMavenArtifact } from './maven.ts';
import type { EnginePaths } from './paths.ts';
import { S3MOCK_ARTIFACT } from './s3mock.ts';

export interface EngineInstall {
  /** Unpacked Elasticsearch home. */
  esHome: string;
  /** Verified S3Mock `exec` jar. */
  s3mockJar: string;
}

/** Downloads, verifies and unpacks everything the local engine and the integration tests run. */
export async function prefetchEngine(paths: EnginePaths, env: Pick<EngineEnv, 'mavenRepository'>): Promise<EngineInstall> {
  const [esHome, s3mockJar] = await Promise.all([
    ensureElasticsearchInstalled({ ...paths, repositoryUrl: env.mavenRepository }),
    fetchMavenArtifact({ ...S3MOCK_ARTIFACT, cacheDir: paths.cacheDir, repositoryUrl: env.mavenRepository }),
  ]);
  return { esHome, s3mockJar };
}
