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

  describe('fitted to a terminal', () => {
    interface Row {
      name: string;
      n: string;
      prompt: string;
      day: string;
    }
    const columns = [
      { header: 'NAME', width: 20, min: 6, cell: (r: Row) => r.name },
      { header: 'N', width: 3, align: 'right' as const, cell: (r: Row) => r.n },
      { header: 'DAY', width: 10, optional: true, cell: (r: Row) => r.day },
      { header: 'PROMPT', width: 30, min: 8, cell: (r: Row) => r.prompt },
    ];
    const rows: Row[] = [{ name: '2025-06-01-cyberpunk-city', n: '8', prompt: 'cyberpunk city at night, neon', day: '2025-06-01' }];

    it('takes each column at its content width, up to its maximum', () => {
      expect(renderTable(columns, rows, { columns: 200 }).split('\n')).toEqual([
        'NAME                  N  DAY         PROMPT',
        '2025-06-01-cyberpun…  8  2025-06-01  cyberpunk city at night, neon',
      ]);
    });

    it('gives way left to right by default: shrinks only as much as needed, never past the minimum', () => {
      const lines = renderTable(columns, rows, { columns: 60 }).split('\n');

      expect(lines.every((l) => displayWidth(l) <= 60)).toBe(true);
      expect(lines[1]).toBe('2025-06-01-cy…  8  2025-06-01  cyberpunk city at night, neon');
    });

    it('leaves out optional columns when the minimums still do not fit', () => {
      expect(renderTable(columns, rows, { columns: 26 }).split('\n')).toEqual(['NAME    N  PROMPT', '2025-…  8  cyberpunk city…']);
    });

    it('gives the room freed by a left-out column back to the columns shrunk before it', () => {
      expect(renderTable(columns, rows, { columns: 45 }).split('\n')[1]).toBe('2025-06-01…  8  cyberpunk city at night, neon');
    });

    it('gives way in giveWay order', () => {
      const ordered = columns.map((c) => ({ ...c, giveWay: { NAME: 3, N: 0, DAY: 2, PROMPT: 1 }[c.header] }));

      expect(renderTable(ordered, rows, { columns: 50 }).split('\n')[1]).toBe('2025-06-01-cyberpun…  8  2025-06-01  cyberpunk ci…');
    });

    it('cuts nothing off a terminal (columns null)', () => {
      expect(renderTable(columns, rows, { columns: null }).split('\n')[1]).toBe('2025-06-01-cyberpunk-city  8  2025-06-01  cyberpunk city at night, neon');
    });
  });
});
