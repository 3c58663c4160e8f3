import type { Client } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { caretMessage, runSearchCommands, type SearchCommand } from '../../../src/cli/search.ts';
import { QueryError } from '../../../src/errors.ts';

/** These paths end before any request; a client that is touched fails the test. */
const UNTOUCHABLE = new Proxy(
  {},
  {
    get: () => {
      throw new Error('client used');
    },
  },
) as Client;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const deps = {
    client: UNTOUCHABLE,
    index: 'runs',
    now: new Date(0),
    stdout: (t: string) => out.push(t),
    stderr: (t: string) => err.push(t),
    json: false,
    tty: true,
  };
  return { out, err, deps };
}

describe('cli/search', () => {
  it.each<SearchCommand>(['search', 'show', 'reproduce', 'best', 'similar', 'compare'])('%s --help prints its usage and exits 0', async (cmd) => {
    const { out, deps } = capture();

    const code = await runSearchCommands(cmd, ['--help'], deps);

    expect(code).toBe(0);
    expect(out.join('\n')).toContain(`lora-catalog ${cmd}`);
  });

  it('search --help lists every field', async () => {
    const { out, deps } = capture();

    await runSearchCommands('search', ['-h'], deps);

    expect(out.join('\n')).toMatch(/rank:8[\s\S]*lr:1e-4[\s\S]*since:30d[\s\S]*id:/);
  });

  it.each([
    ['cyberpunk', 'foo:1', '            ^'],
    ['赛博朋克', 'rank:x', '                ^'],
  ])('prints the query %s %s with a caret under the offending character and exits 2', async (a, b, caretLine) => {
    const { err, deps } = capture();

    const code = await runSearchCommands('search', [a, b], deps);

    expect(code).toBe(2);
    const lines = err.join('\n').split('\n');
    expect(lines[1]).toBe(`  ${a} ${b}`);
    expect(lines[2]).toBe(caretLine);
  });

  it.each<[SearchCommand, string[]]>([
    ['show', []],
    ['reproduce', ['a', 'b']],
    ['best', ['--top', 'zero']],
    ['best', ['--rank']],
    ['similar', ['--size', '-3']],
    ['search', ['cyberpunk', '--sise', '5']],
    ['search', ['--rank', '8']],
    ['show', ['01a0c0de', '--include-vanished']],
    ['compare', ['01a0c0de']],
    ['search', ['x', '--page', '0']],
  ])('%s %j is a usage error (exit 2)', async (cmd, argv) => {
    const { err, deps } = capture();

    expect(await runSearchCommands(cmd, argv, deps)).toBe(2);
    expect(err.join('\n')).toContain('Usage:');
  });

  it('names an unknown option instead of searching for it as text', async () => {
    const { err, deps } = capture();

    expect(await runSearchCommands('search', ['cyberpunk', '--sise', '5'], deps)).toBe(2);
    expect(err.join('\n')).toMatch(
      /^lora-catalog search: unknown option --sise \(search takes --size, -n, --page, --include-vanished, --json, --help; to search for the text, write -- --sise\)/,
    );
  });

  it('places the caret by display width, so it lines up under CJK text', () => {
    expect(caretMessage('建筑 foo:1', new QueryError('x', 3)).split('\n')[2]).toBe('       ^');
  });
});
