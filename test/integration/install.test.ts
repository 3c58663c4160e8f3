import { execFile, execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deleteIndexQuietly, esClient, uniqueName } from './helpers.ts';

const REPO = path.resolve(import.meta.dirname, '../..');

/**
 * A newcomer's first minutes, as the README prints them: the quick start in a fresh clone, then
 * `bin/lora-catalog search …` in a new shell (no Node 24 on PATH, nothing exported); and the npm
 * package installed elsewhere, run from another directory.
 */
describe('install: the README commands in a fresh clone, and the packed CLI', () => {
  let base: string;
  let clone: string;
  let stateDir: string;

  beforeAll(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'lora-install-'));
    await chmod(base, 0o755);
    clone = path.join(base, 'clone');
    stateDir = path.join(base, 'state');
    await copyWorkingTree(REPO, clone);
  }, 120_000);

  afterAll(async () => {
    if (clone && existsSync(path.join(clone, 'bin/lora-catalog'))) {
      await run(path.join(clone, 'bin/lora-catalog'), ['es', 'stop'], { cwd: clone, env: newShellEnv(stateDir) });
    }
    await rm(base, { recursive: true, force: true });
  }, 120_000);

  it('quick start, then bin/lora-catalog search in a new shell finds the example run on the engine the quick start left up', async () => {
    const quick = await run(path.join(clone, 'quickstart.sh'), [], { cwd: clone, env: { ...process.env, LORA_CATALOG_STATE_DIR: stateDir } });
    expect(quick.code, quick.stderr.slice(-3000)).toBe(0);
    expect(quick.stdout).toMatch(/Sync ok/);
    expect(quick.stderr).toMatch(/bin\/lora-catalog search/);

    const search = await run(path.join(clone, 'bin/lora-catalog'), ['search', 'cyberpunk loss<0.05', '--json'], {
      cwd: os.tmpdir(),
      env: newShellEnv(stateDir),
    });
    const status = await run(path.join(clone, 'bin/lora-catalog'), ['es', 'status'], { cwd: clone, env: newShellEnv(stateDir) });

    expect(search.code, search.stderr).toBe(0);
    expect((JSON.parse(search.stdout) as { hits: { source_uri: string }[] }).hits.map((h) => path.basename(h.source_uri))).toEqual([
      '2025-03-02-cyberpunk-city-r8',
    ]);
    expect(search.stderr).not.toMatch(/Starting the local Elasticsearch/);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/healthy; data .*state\/es\/data; stops after 30 min unused/);
  }, 600_000);

  it('npm pack gives a package whose lora-catalog runs --version, sync and search from another directory on Node >= 22 (built JavaScript)', async () => {
    const packDir = path.join(base, 'pack');
    const installDir = path.join(base, 'installed');
    const elsewhere = path.join(base, 'elsewhere');
    await Promise.all([mkdir(packDir), mkdir(installDir), mkdir(elsewhere)]);
    const runs = uniqueName('inst-runs');
    const rollups = uniqueName('inst-rollups');
    const syncRuns = uniqueName('inst-sync');
    const leases = uniqueName('inst-leases');
    await writeFile(
      path.join(elsewhere, 'lora-catalog.yaml'),
      `elasticsearch:\n  url: ${inject('esUrl')}\nindices:\n  runs: ${runs}\n  rollups: ${rollups}\n  sync_runs: ${syncRuns}\n  leases: ${leases}\n`,
    );

    const pack = await run('npm', ['pack', '--pack-destination', packDir], { cwd: clone, env: process.env });
    expect(pack.code, pack.stderr.slice(-3000)).toBe(0);
    const tarball = path.join(packDir, pack.stdout.trim().split('\n').at(-1) ?? '');
    await writeFile(path.join(installDir, 'package.json'), '{"name":"consumer","private":true}\n');
    const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: installDir, env: process.env });
    expect(install.code, install.stderr.slice(-3000)).toBe(0);
    const bin = path.join(installDir, 'node_modules/.bin/lora-catalog');

    try {
      const version = await run(bin, ['--version'], { cwd: elsewhere, env: process.env });
      const sync = await run(bin, ['sync', '--example'], { cwd: elsewhere, env: process.env });
      const search = await run(bin, ['search', 'cyberpunk', '--json'], { cwd: elsewhere, env: process.env });

      expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^lora-catalog \d+\.\d+\.\d+ \(Node\.js v\d+/) });
      expect(sync.code, sync.stderr).toBe(0);
      expect(sync.stdout).toMatch(/runs found 5/);
      expect(search.code, search.stderr).toBe(0);
      expect((JSON.parse(search.stdout) as { total: number }).total).toBeGreaterThanOrEqual(1);
      expect(existsSync(path.join(installDir, 'node_modules/lora-catalog/src'))).toBe(false);
    } finally {
      await deleteIndexQuietly(esClient(), [`${runs}*`, `${rollups}*`, `${syncRuns}*`, `${leases}*`]);
    }
  }, 600_000);
});

// --- internal ---

/** The files a fresh clone has: what git tracks plus what it would track (new, not ignored), as in the working tree. */
async function copyWorkingTree(from: string, to: string): Promise<void> {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: from, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    const source = path.join(from, file);
    if (!existsSync(source)) {
      continue;
    }
    await mkdir(path.dirname(path.join(to, file)), { recursive: true });
    await copyFile(source, path.join(to, file));
  }
  for (const script of ['quickstart.sh', 'test.sh', 'bin/lora-catalog', 'bin/lora-catalog.js']) {
    await chmod(path.join(to, script), 0o755);
  }
}

/** A new login shell's environment: no Node 24 on PATH, none of this process's exports. */
function newShellEnv(stateDir: string): NodeJS.ProcessEnv {
  return { HOME: process.env.HOME ?? '/root', PATH: '/usr/local/bin:/usr/bin:/bin', LORA_CATALOG_STATE_DIR: stateDir };
}

function run(command: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: opts.cwd, env: opts.env, timeout: 540_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
