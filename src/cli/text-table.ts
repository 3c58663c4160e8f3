export interface TableColumn<Row> {
  header: string;
  /** Fixed width in terminal columns; the cell is truncated with '…' to fit. */
  width: number;
  align?: 'left' | 'right';
  cell(row: Row): string;
}

/** Terminal columns of a string: East Asian wide and fullwidth characters take 2, combining marks 0. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    width += charWidth(ch.codePointAt(0) ?? 0);
  }
  return width;
}

/** Cuts `text` to at most `width` columns, ending in '…' when cut; never splits a wide character. */
export function truncate(text: string, width: number): string {
  // Control characters (newlines in prompts, escape sequences) would break the row or the terminal.
  // oxlint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  if (displayWidth(clean) <= width) {
    return clean;
  }
  let out = '';
  let used = 0;
  for (const ch of clean) {
    const w = charWidth(ch.codePointAt(0) ?? 0);
    if (used + w > width - 1) {
      break;
    }
    out += ch;
    used += w;
  }
  return `${out}…`;
}

/** Pads (or truncates) to exactly `width` columns. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(text, width);
  const pad = ' '.repeat(Math.max(0, width - displayWidth(cut)));
  return align === 'right' ? pad + cut : cut + pad;
}

/** Fixed-width columns separated by two spaces; trailing spaces trimmed. */
export function renderTable<Row>(columns: TableColumn<Row>[], rows: Row[]): string {
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => fit(cell, (columns[i] as TableColumn<Row>).width, (columns[i] as TableColumn<Row>).align))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map((row) => line(columns.map((c) => c.cell(row))))].join('\n');
}

// --- internal ---

/** East Asian Width W/F ranges (Unicode 15, abridged to the blocks that occur in prompts and paths) plus emoji. */
const WIDE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f],
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x23e9, 0x23ec],
  [0x25fd, 0x25fe],
  [0x2614, 0x2615],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

function charWidth(cp: number): number {
  if ((cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) {
    return 0;
  }
  for (const [lo, hi] of WIDE_RANGES) {
    if (cp >= lo && cp <= hi) {
      return 2;
    }
  }
  return 1;
}
