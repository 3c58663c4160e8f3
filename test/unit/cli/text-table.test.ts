import { describe, expect, it } from 'vitest';
import { displayWidth, fit, renderTable, truncate } from '../../../src/cli/text-table.ts';

describe('cli/text-table', () => {
  it.each([
    ['cyberpunk', 9],
    ['建筑', 4],
    ['赛博朋克 city', 13],
    ['ｆｕｌｌ', 8],
    ['한국어', 6],
    ['e\u0301', 1],
    ['', 0],
  ])('measures %j as %i columns', (text, width) => {
    expect(displayWidth(text)).toBe(width);
  });

  it.each([
    ['short', 10, 'short'],
    ['cyberpunk city', 8, 'cyberpu…'],
    ['赛博朋克建筑', 7, '赛博朋…'],
    ['赛博朋克建筑', 8, '赛博朋…'],
    ['line\nbreak', 20, 'line break'],
  ])('truncates %j to %i columns as %j', (text, width, expected) => {
    expect(truncate(text, width)).toBe(expected);
    expect(displayWidth(truncate(text, width))).toBeLessThanOrEqual(width);
  });

  it('pads to exactly the width, counting wide characters twice', () => {
    expect(fit('建筑', 6)).toBe('建筑  ');
    expect(fit('8', 4, 'right')).toBe('   8');
    expect(displayWidth(fit('赛博朋克建筑夜景', 9))).toBe(9);
  });

  it('lines up columns whatever the script', () => {
    const table = renderTable(
      [
        { header: 'PROMPT', width: 8, cell: (r: { p: string; n: number }) => r.p },
        { header: 'N', width: 3, align: 'right', cell: (r) => String(r.n) },
      ],
      [
        { p: '赛博朋克建筑夜景', n: 1 },
        { p: 'city', n: 22 },
      ],
    );

    expect(table.split('\n')).toEqual(['PROMPT      N', '赛博朋…     1', 'city       22']);
  });
});
