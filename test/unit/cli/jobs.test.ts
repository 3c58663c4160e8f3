import { describe, expect, it } from 'vitest';
import { JOBS_USAGE, runJobsCommand, type JobsCommand } from '../../../src/cli/jobs.ts';

function capture(): { out: string[]; err: string[]; io: { stdout(t: string): void; stderr(t: string): void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t) => out.push(t), stderr: (t) => err.push(t) } };
}

describe('src/cli/jobs', () => {
  it.each(['schedule', 'report', 'retention'] as const)('%s --help prints its usage and exits 0', async (cmd: JobsCommand) => {
    const { out, io } = capture();

    const code = await runJobsCommand(cmd, ['--help'], { io });

    expect(code).toBe(0);
    expect(out).toEqual([JOBS_USAGE[cmd].trimEnd()]);
  });

  it.each([
    ['no run directory', []],
    ['two run directories', ['a', 'b']],
    ['an unknown flag', ['run', '--frobnicate']],
  ])('report with %s warns and still exits 0', async (_name, argv) => {
    const { err, io } = capture();

    const code = await runJobsCommand('report', argv, { io });

    expect(code).toBe(0);
    expect(err.join('\n')).toMatch(/^warning: /);
  });

  it.each(['schedule', 'retention'] as const)('%s with an unknown flag exits 2', async (cmd) => {
    const { err, io } = capture();

    const code = await runJobsCommand(cmd, ['--frobnicate'], { io });

    expect(code).toBe(2);
    expect(err).toHaveLength(1);
  });
});
