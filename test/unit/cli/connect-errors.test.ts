import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = path.resolve(import.meta.dirname, '../../../src/cli/main.ts');

describe('cli/connect: what a failed connection means', { timeout: 60_000 }, () => {
  let server: Server;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    // Answers like a secured cluster that does not know the key.
    server = createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'ApiKey' });
      res.end(JSON.stringify({ error: { type: 'security_exception', reason: 'unable to authenticate with provided credentials' }, status: 401 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(path.join(os.tmpdir(), 'connect-errors-'));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('exits 2 with an authentication message when the cluster refuses the credentials (not 4 "unreachable")', async () => {
    const config = await writeConfig(dir, 'auth.yaml', `elasticsearch:\n  url: ${url}\n  api_key: wrong-key-123\n`);

    const { code, stderr } = await run(['search', 'cyberpunk', '--config', config]);

    expect(code).toBe(2);
    expect(stderr).toMatch(/refused the credentials \(HTTP 401\)/);
    expect(stderr).not.toContain('wrong-key-123');
  });

  it('exits 2 naming the key when the CA certificate is missing (not 4 "unreachable")', async () => {
    const config = await writeConfig(dir, 'ca.yaml', `elasticsearch:\n  url: ${url}\n  ca_cert: ./missing-ca.pem\n`);

    const { code, stderr } = await run(['search', 'cyberpunk', '--config', config]);

    expect(code).toBe(2);
    expect(stderr).toMatch(/key elasticsearch\.ca_cert: cannot read .*missing-ca\.pem \(ENOENT\)/);
  });

  it('exits 2 naming the key for an invalid cron expression, before anything runs', async () => {
    const config = await writeConfig(dir, 'cron.yaml', 'schedule:\n  full: "61 2 * * *"\n');

    const { code, stderr } = await run(['config', 'check', '--config', config]);

    expect(code).toBe(2);
    expect(stderr).toMatch(/key schedule\.full: not a valid cron expression/);
  });

  it('exits 4 when nothing answers', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const config = await writeConfig(dir, 'down.yaml', `elasticsearch:\n  url: http://127.0.0.1:${port}\n  request_timeout: 2s\n`);

    const { code, stderr } = await run(['search', 'cyberpunk', '--config', config]);

    expect(code).toBe(4);
    expect(stderr).toMatch(/Elasticsearch unreachable/);
  });
});

// --- internal ---

async function writeConfig(dir: string, name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('cli/main: sync --source must name a configured source', { timeout: 60_000 }, () => {
  it('exits 2 before connecting, naming the unknown source and the configured ones', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sync-source-'));
    const config = await writeConfig(
      dir,
      'c.yaml',
      `sources:\n  - name: nfs-runs\n    kind: fs\n    path: ${dir}\nelasticsearch:\n  url: http://127.0.0.1:9\n`,
    );

    const { code, stderr } = await run(['sync', '--source', 'nope', '--config', config]);

    expect(code).toBe(2);
    expect(stderr).toMatch(/--source nope: no such source; configured: nfs-runs/);
  });
});
