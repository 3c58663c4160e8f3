import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { allSecrets, secretRunTree } from '../fixtures/secrets/corpus.ts';
import { writeTree } from '../helpers/temp-tree.ts';
import { createTestApp, type TestApp } from './app-context.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const CLI = path.join(REPO, 'src/cli/main.ts');

/** The Elasticsearch URL as an operator sets it: credentials inline, `@` and `/` in the password percent-encoded. */
const ES_PASSWORD = 'ZqEsP%40ss%2Fw0rd99';

const apps: TestApp[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.cleanup()));
});

describe('secrets never leave (real Elasticsearch, the CLI as a child process)', () => {
  it('a synced secret corpus leaves no secret in any index, show, reproduce, the outbox or any CLI output', async () => {
    const tree = await writeTree(secretRunTree(), 'lora-secrets-');
    const app = await createTestApp({ from: tree });
    apps.push(app);
    const outbox = path.join(app.root, '..', `${path.basename(app.root)}-outbox`);
    const configFile = path.join(app.root, '..', `${path.basename(app.root)}.yaml`);
    await writeFile(configFile, JSON.stringify({ sources: app.config.sources, indices: app.config.indices, outbox_dir: outbox }));
    const esUrl = withCredentials(inject('esUrl'), 'elastic', ES_PASSWORD);
    const secrets = [...allSecrets(), ES_PASSWORD, 'ZqEsP', 'w0rd99'];
    const outputs: string[] = [];

    const sync = await cli(['sync', '--config', configFile], esUrl);
    outputs.push(sync.out);
    const check = await cli(['config', 'check', '--config', configFile], esUrl);
    outputs.push(check.out);
    const { client } = app.ctx;
    const indexed: Record<string, unknown[]> = {};
    for (const [role, index] of Object.entries(app.config.indices)) {
      await client.indices.refresh({ index }, { ignore: [404] });
      const res = await client.search({ index, size: 10_000, query: { match_all: {} } }, { ignore: [404] });
      indexed[role] = res.hits?.hits ?? [];
    }
    const ids = (indexed['runs'] ?? []).map((h) => (h as { _id: string })._id);
    for (const id of ids) {
      outputs.push((await cli(['show', id, '--json', '--config', configFile], esUrl)).out, (await cli(['reproduce', id, '--config', configFile], esUrl)).out);
    }
    const report = await cli(
      ['report', path.join(app.root, 'yaml-run'), '--config', configFile],
      withCredentials(await closedPortUrl(), 'elastic', ES_PASSWORD),
    );
    outputs.push(report.out);
    const spooled = await Promise.all((await readdir(outbox)).map((f) => readFile(path.join(outbox, f), 'utf8')));

    expect(sync.code, sync.out).toBe(0);
    expect(check.code, check.out).toBe(0);
    expect(check.out).toMatch(/\/\/\[hidden\]@127\.0\.0\.1/);
    expect(Object.fromEntries(Object.entries(indexed).map(([role, hits]) => [role, hits.length > 0]))).toMatchObject({
      runs: true,
      rollups: true,
      sync_runs: true,
    });
    expect(ids).toHaveLength(5);
    expect(report.code, report.out).toBe(0);
    expect(spooled).toHaveLength(1);
    expect(leaks(JSON.stringify(indexed), secrets), 'indices').toEqual([]);
    expect(leaks(outputs.join('\n'), secrets), 'CLI output').toEqual([]);
    expect(leaks(spooled.join('\n'), secrets), 'outbox').toEqual([]);
  }, 240_000);
});

// --- internal ---

function leaks(text: string, secrets: readonly string[]): string[] {
  return [...new Set(secrets.filter((s) => text.includes(s)))];
}

function withCredentials(url: string, user: string, password: string): string {
  return url.replace('://', `://${user}:${password}@`);
}

async function cli(args: string[], esUrl: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, LORA_CATALOG_ES_URL: esUrl }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
