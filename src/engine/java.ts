import { access, constants, realpath } from 'node:fs/promises';
import path from 'node:path';
import { EngineError } from '../errors.ts';
import { runCapture } from './process.ts';

export interface ResolveJavaOptions {
  /** Explicit Java home (option); wins over the environment. */
  javaHome?: string;
  /** `ES_JAVA_HOME` / `JAVA_HOME` (see `readEngineEnv`). */
  envJavaHome?: string;
  /** `PATH`, searched for `java` when no home is given. */
  pathEnv?: string;
}

export interface JavaRuntime {
  /** Directory with `bin/java`; what `ES_JAVA_HOME` is set to. */
  home: string;
  java: string;
  /** Feature version: 17, 21… */
  major: number;
}

/** Elasticsearch 8.19 and S3Mock 5 both need Java 17 or newer. */
export const MIN_JAVA_MAJOR = 17;

const JAVA_HINT = `needs Java ${MIN_JAVA_MAJOR}+; set JAVA_HOME or ES_JAVA_HOME (or put java on PATH)`;

export async function resolveJava(opts: ResolveJavaOptions = {}): Promise<JavaRuntime> {
  const explicit = opts.javaHome ?? opts.envJavaHome;
  const java = explicit === undefined ? await findOnPath('java', opts.pathEnv ?? '') : path.join(explicit, 'bin', 'java');
  if (java === null || !(await isExecutable(java))) {
    throw new EngineError('engine-start-failed', `[java] no java found${explicit === undefined ? '' : ` in ${explicit}`}: ${JAVA_HINT}`);
  }
  const { code, output } = await runCapture(java, ['-version']);
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (code !== 0 || match === null) {
    throw new EngineError('engine-start-failed', `[java] ${java} -version failed: ${output.trim()}; ${JAVA_HINT}`);
  }
  const first = Number(match[1]);
  const major = first === 1 ? Number(match[2]) : first;
  if (major < MIN_JAVA_MAJOR) {
    throw new EngineError('engine-start-failed', `[java] ${java} is Java ${major}; ${JAVA_HINT}`);
  }
  const real = await realpath(java);
  return { home: path.dirname(path.dirname(real)), java: real, major };
}

// --- internal ---

async function findOnPath(name: string, pathEnv: string): Promise<string | null> {
  for (const dir of pathEnv.split(path.delimiter)) {
    if (dir === '') {
      continue;
    }
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) {
      return candidate;
    }
  }
  return null;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
