import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runEsCommand } from '../../../src/cli/es.ts';

let cacheDir = '';
let out = '';
let err = '';

function io(json: boolean): Parameters<typeof runEsCommand>[1] {
  return { stdout: (s) => (out += s), stderr: (s) => (err += s), json };
}

beforeEach(async () => {
  cacheDir = await mkdtemp(path.join(os.tmpdir(), 'es-cli-test-'));
  out = '';
  err = '';
});

afterEach(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

describe('cli/es', () => {
  it.each([
    ['no subcommand', []],
    ['an unknown subcommand', ['launch']],
    ['an unknown flag', ['start', '--bogus']],
    ['a bad port', ['start', '--port', 'x']],
  ])('exits 2 on %s', async (_case, argv) => {
    const code = await runEsCommand(argv, io(false));

    expect(code).toBe(2);
    expect(err).toContain('Usage:');
  });

  it('prints help with exit 0', async () => {
    const code = await runEsCommand(['--help'], io(false));

    expect(code).toBe(0);
    expect(out).toContain('es <start|stop|status>');
  });

  it.each([['status'], ['stop']])('%s exits 1 when nothing was started', async (command) => {
    const code = await runEsCommand([command, '--cache-dir', cacheDir], io(true));

    expect(code).toBe(1);
    expect(JSON.parse(out)).toMatchObject({ ok: false });
  });
});
