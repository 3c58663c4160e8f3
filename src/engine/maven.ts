import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { trustSystemCertificates } from './system-ca.ts';
import { EngineError, errorMessage } from '../errors.ts';

export interface MavenArtifact {
  /** Repository base URL, default Maven Central (`MAVEN_CENTRAL`); set it for a mirror. */
  repositoryUrl?: string;
  groupId: string;
  artifactId: string;
  version: string;
  /** e.g. `exec`; none for the main artifact. */
  classifier?: string;
  /** File extension without the dot: `zip`, `jar`. */
  extension: string;
  /** Folder the verified file (and its `.sha512`) is kept in. Created if missing. */
  cacheDir: string;
}

/** Maven Central; the only artifact host the project needs. */
export const MAVEN_CENTRAL = 'https://repo1.maven.org/maven2';

/**
 * Returns the path of the artifact in `cacheDir`, downloading it first when it is missing or its
 * SHA-512 no longer matches. The `.sha512` published beside the artifact is kept next to the cached
 * file, so a cached artifact is re-verified on every call without network access.
 */
export async function fetchMavenArtifact(artifact: MavenArtifact): Promise<string> {
  const fileName = mavenFileName(artifact);
  const target = path.join(artifact.cacheDir, fileName);
  const shaFile = `${target}.sha512`;
  await mkdir(artifact.cacheDir, { recursive: true });

  const cachedSha = await readExpectedSha(shaFile);
  if (cachedSha !== null && (await exists(target))) {
    if ((await sha512OfFile(target)) === cachedSha) {
      return target;
    }
    await rm(target, { force: true });
  }

  const url = mavenUrl(artifact);
  const expected = parseSha512(await fetchText(`${url}.sha512`), `${url}.sha512`);
  const tmp = `${target}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const actual = await downloadHashing(url, tmp);
    if (actual !== expected) {
      throw new EngineError('engine-checksum-mismatch', `[maven] ${url}: SHA-512 ${actual} does not match the published ${expected}`);
    }
    await rename(tmp, target);
  } finally {
    await rm(tmp, { force: true });
  }
  await writeFile(shaFile, expected);
  return target;
}

/** `<artifactId>-<version>[-<classifier>].<extension>`, the file name Maven itself uses. */
export function mavenFileName(artifact: Pick<MavenArtifact, 'artifactId' | 'version' | 'classifier' | 'extension'>): string {
  const classifier = artifact.classifier === undefined ? '' : `-${artifact.classifier}`;
  return `${artifact.artifactId}-${artifact.version}${classifier}.${artifact.extension}`;
}

export function mavenUrl(artifact: MavenArtifact): string {
  const base = (artifact.repositoryUrl ?? MAVEN_CENTRAL).replace(/\/+$/, '');
  const groupPath = artifact.groupId.replaceAll('.', '/');
  return `${base}/${groupPath}/${artifact.artifactId}/${artifact.version}/${mavenFileName(artifact)}`;
}

export async function sha512OfFile(file: string): Promise<string> {
  const hash = createHash('sha512');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

// --- internal ---

async function downloadHashing(url: string, dest: string): Promise<string> {
  const response = await get(url);
  if (response.body === null) {
    throw new EngineError('engine-download-failed', `[maven] GET ${url}: empty body`);
  }
  const hash = createHash('sha512');
  const tee = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), tee, createWriteStream(dest));
  } catch (err) {
    throw new EngineError('engine-download-failed', `[maven] GET ${url}: ${errorMessage(err)}`, { cause: err });
  }
  return hash.digest('hex');
}

async function fetchText(url: string): Promise<string> {
  return (await get(url)).text();
}

async function get(url: string): Promise<Response> {
  trustSystemCertificates();
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    throw new EngineError('engine-download-failed', `[maven] GET ${url}: ${fetchFailure(err)}`, { cause: err });
  }
  if (!response.ok) {
    throw new EngineError('engine-download-failed', `[maven] GET ${url}: ${response.status} ${response.statusText}`);
  }
  return response;
}

/** fetch's own message is "fetch failed": the reason (a certificate, a refused connection…) is in its cause. */
function fetchFailure(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const reason = [cause?.code, cause?.message].filter(Boolean).join(': ');
  return reason ? `${errorMessage(err)} (${reason})` : errorMessage(err);
}

/** Published `.sha512` files hold the hex digest, sometimes followed by the file name. */
function parseSha512(text: string, where: string): string {
  const token = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  if (!/^[0-9a-f]{128}$/.test(token)) {
    throw new EngineError('engine-download-failed', `[maven] ${where}: not a SHA-512 digest`);
  }
  return token;
}

async function readExpectedSha(shaFile: string): Promise<string | null> {
  try {
    return parseSha512(await readFile(shaFile, 'utf8'), shaFile);
  } catch {
    return null;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
