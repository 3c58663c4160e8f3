// Script: `node src/cli/prefetch-engine.ts` fills the engine cache, so CI's test timeouts never include a download.
import { readEngineEnv } from '../config/env.ts';
import { errorMessage } from '../errors.ts';
import { enginePathsFromEnv } from '../engine/paths.ts';
import { prefetchEngine } from '../engine/prefetch.ts';

const env = readEngineEnv();
const paths = enginePathsFromEnv(env);
try {
  const started = Date.now();
  const install = await prefetchEngine(paths, env);
  console.log(`engine ready in ${Date.now() - started} ms: ${install.esHome}, ${install.s3mockJar}`);
} catch (err) {
  console.error(`prefetch-engine: ${errorMessage(err)}`);
  process.exitCode = 1;
}
