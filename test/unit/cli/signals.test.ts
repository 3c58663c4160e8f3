import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { tempTrees } from '../../helpers/temp-tree.ts';

const run = promisify(execFile);
const SIGNALS = fileURLToPath(new URL('../../../src/cli/signals.ts', import.meta.url));
const FS_READ = fileURLToPath(new URL('../../../src/sources/fs-read.ts', import.meta.url));
const { tree, cleanup } = tempTrees('lora-catalog-signals-');

afterEach(cleanup);

/**
 * A child with a thread-pool thread stuck for good (a blocking open of a FIFO nobody writes: what a
 * read on a hung mount looks like), whose command either returns once aborted or never returns.
 */
async function stuckChild(commandReturns: boolean): Promise<{ ms: number; code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const dir = await tree({});
  const fifo = path.join(dir, 'fifo');
  await run('mkfifo', [fifo]);
  const script = `
    import { open } from 'node:fs';
    import { exitProcess, installStopHandlers } from ${JSON.stringify(SIGNALS)};
    open(${JSON.stringify(fifo)}, 'r', () => {});
    const abort = new AbortController();
    installStopHandlers(abort, { forceAfterMs: 1500, stderr: (line) => process.stderr.write(line + '\\n') });
    ${commandReturns ? "abort.signal.addEventListener('abort', () => setTimeout(() => exitProcess(1), 200));" : ''}
    setInterval(() => {}, 1000);
    process.stdout.write('ready\\n');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const started = Date.now();
  child.kill('SIGTERM');
  const [code, signal] = (await new Promise((resolve) => child.on('exit', (...args) => resolve(args)))) as [number | null, NodeJS.Signals | null];
  return { ms: Date.now() - started, code, signal, stderr };
}

describe('cli/signals', () => {
  it('ends a process whose command returned after SIGTERM, although a thread-pool read is stuck (process.exit would hang)', async () => {
    const result = await stuckChild(true);

    expect(result.signal).toBe('SIGTERM');
    expect(result.ms).toBeLessThan(1500);
    expect(result.stderr).toContain('SIGTERM: stopping');
  });

  it('ends a process whose command never returns within the forced-exit delay', async () => {
    const result = await stuckChild(false);

    expect(result.signal).toBe('SIGTERM');
    expect(result.ms).toBeGreaterThanOrEqual(1400);
    expect(result.ms).toBeLessThan(4000);
    expect(result.stderr).toContain('exiting now');
  });

  it('ends by SIGTERM instead of hanging in process.exit when a timed-out read is still stuck in the thread pool', async () => {
    const dir = await tree({ 'config.yaml': 'a: 1' });
    const fifo = path.join(dir, 'fifo');
    await run('mkfifo', [fifo]);
    const script = `
      import { open } from 'node:fs';
      import { exitProcess } from ${JSON.stringify(SIGNALS)};
      import { readFileBytes } from ${JSON.stringify(FS_READ)};
      open(${JSON.stringify(fifo)}, 'r', () => {});
      await readFileBytes(${JSON.stringify(path.join(dir, 'config.yaml'))}, 'config.yaml', { start: 0, end: 5 }, { noFollow: true, timeoutMs: 200, sync: false }).catch(() => {});
      setTimeout(() => exitProcess(0), 50);
    `;
    const started = Date.now();

    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, UV_THREADPOOL_SIZE: '1' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [, signal] = (await new Promise((resolve) => child.on('exit', (...args) => resolve(args)))) as [number | null, NodeJS.Signals | null];
    clearTimeout(killer);

    expect(signal).toBe('SIGTERM');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(stderr).toMatch(/1 file read\(s\) still stuck/);
  });
});
