import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchMavenArtifact, mavenFileName, mavenUrl } from '../../../src/engine/maven.ts';
import type { PipelineError } from '../../../src/errors.ts';

const CONTENT = Buffer.from('pretend this is a zip\n'.repeat(1000));
const GOOD_SHA = createHash('sha512').update(CONTENT).digest('hex');
const BAD_SHA = createHash('sha512').update('something else').digest('hex');

/** Path → [status, body]; the published checksum of each artifact is set per test. */
const routes = new Map<string, [number, string | Buffer]>();
const requests: string[] = [];
let server: http.Server;
let repositoryUrl = '';
let cacheDir = '';

const artifact = { groupId: 'org.example.tools', artifactId: 'thing', version: '1.2.3', extension: 'zip' };
const artifactPath = '/org/example/tools/thing/1.2.3/thing-1.2.3.zip';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const [status, body] = routes.get(req.url ?? '') ?? [404, 'not found'];
    res.writeHead(status).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  repositoryUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(async () => {
  cacheDir = await mkdtemp(path.join(os.tmpdir(), 'maven-test-'));
  routes.clear();
  requests.length = 0;
  routes.set(artifactPath, [200, CONTENT]);
});

afterEach(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

describe('engine/maven', () => {
  it('downloads, verifies and caches an artifact with its published checksum', async () => {
    routes.set(`${artifactPath}.sha512`, [200, `${GOOD_SHA}  thing-1.2.3.zip\n`]);

    const file = await fetchMavenArtifact({ ...artifact, repositoryUrl, cacheDir });

    expect(file).toBe(path.join(cacheDir, 'thing-1.2.3.zip'));
    expect(await readFile(file)).toEqual(CONTENT);
    expect(await readFile(`${file}.sha512`, 'utf8')).toBe(GOOD_SHA);
  });

  it('reuses a verified cached file without network access', async () => {
    routes.set(`${artifactPath}.sha512`, [200, GOOD_SHA]);
    await fetchMavenArtifact({ ...artifact, repositoryUrl, cacheDir });
    requests.length = 0;

    const file = await fetchMavenArtifact({ ...artifact, repositoryUrl, cacheDir });

    expect(requests).toEqual([]);
    expect(await readFile(file)).toEqual(CONTENT);
  });

  it('downloads again when the cached file was corrupted', async () => {
    routes.set(`${artifactPath}.sha512`, [200, GOOD_SHA]);
    const file = await fetchMavenArtifact({ ...artifact, repositoryUrl, cacheDir });
    await writeFile(file, 'truncated');

    await fetchMavenArtifact({ ...artifact, repositoryUrl, cacheDir });

    expect(await readFile(file)).toEqual(CONTENT);
    expect(requests).toContain(artifactPath);
  });

  it('rejects a checksum mismatch and leaves nothing in the cache', async () => {
    routes.set(`${artifactPath}.sha512`, [200, BAD_SHA]);

    const error = await fetchMavenArtifact({ ...artifact, repositoryUrl, cacheDir }).catch((err: unknown) => err);

    expect((error as PipelineError).code).toBe('engine-checksum-mismatch');
    expect(await readdir(cacheDir)).toEqual([]);
  });

  it.each([
    ['the artifact is missing', artifactPath, 404],
    ['the checksum is missing', `${artifactPath}.sha512`, 404],
  ])('fails with engine-download-failed when %s', async (_case, route, status) => {
    routes.set(`${artifactPath}.sha512`, [200, GOOD_SHA]);
    routes.set(route, [status, 'gone']);

    const error = await fetchMavenArtifact({ ...artifact, repositoryUrl, cacheDir }).catch((err: unknown) => err);

    expect((error as PipelineError).code).toBe('engine-download-failed');
  });

  it('names and locates artifacts the way Maven does', () => {
    const s3mock = { groupId: 'com.adobe.testing', artifactId: 's3mock', version: '5.2.0', classifier: 'exec', extension: 'jar' };

    expect(mavenFileName(s3mock)).toBe('s3mock-5.2.0-exec.jar');
    expect(mavenUrl({ ...s3mock, cacheDir })).toBe('https://repo1.maven.org/maven2/com/adobe/testing/s3mock/5.2.0/s3mock-5.2.0-exec.jar');
  });
});
