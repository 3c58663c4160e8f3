export interface TableColumn<Row> {
  header: string;
  /** Width in terminal columns (the most it takes when fitted to a terminal); the cell is truncated with '…' to fit. */
  width: number;
  /** When fitted to a terminal: the column may shrink down to this many columns; default `width` (never shrinks). */
  min?: number;
  /** When fitted to a terminal: the column may be left out. */
  optional?: boolean;
  /** When fitted to a terminal: the order in which columns shrink to `min` or are left out (lowest first); default after all numbered ones, left to right. */
  giveWay?: number;
  /** For a column with both `min` and `optional`: when it is left out, after shrinking at `giveWay`. */
  dropAt?: number;
  align?: 'left' | 'right';
  cell(row: Row): string;
}

export interface TableFit {
  /** Terminal columns to fit the table into; null (output not a terminal) = every column as wide as its content, nothing cut. */
  columns: number | null;
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

/**
 * Columns separated by two spaces; trailing spaces trimmed. Without `fitTo`, each column has its fixed width.
 * Fitted to a terminal, columns take their content's width up to `width`; while the row is too wide, columns give
 * way in `giveWay` order: shrinkable ones down to `min`, optional ones left out. Off a terminal nothing is cut.
 */
export function renderTable<Row>(columns: TableColumn<Row>[], rows: Row[], fitTo?: TableFit): string {
  const cells = rows.map((row) => columns.map((c) => c.cell(row)));
  const widths = fitTo ? fittedWidths(columns, cells, fitTo.columns) : columns.map((c) => c.width);
  const line = (values: string[]) =>
    values
      .flatMap((value, i) => (widths[i] === 0 ? [] : [fit(value, widths[i] as number, (columns[i] as TableColumn<Row>).align)]))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

// --- internal ---

/** Column widths for `renderTable`; 0 = column left out. */
function fittedWidths<Row>(columns: TableColumn<Row>[], cells: string[][], terminal: number | null): number[] {
  const natural = columns.map((c, i) => Math.max(displayWidth(c.header), ...cells.map((row) => displayWidth(clean(row[i] ?? '')))));
  if (terminal === null) {
    return natural;
  }
  const widths = natural.map((w, i) => Math.min(w, (columns[i] as TableColumn<Row>).width));
  const total = () => widths.reduce((sum, w) => sum + w, 0) + 2 * (widths.filter((w) => w > 0).length - 1);
  const steps = columns.flatMap((c, i) => {
    const at = c.giveWay ?? 1000 + i;
    return [
      ...(c.min !== undefined ? [{ c, i, at, drop: false }] : []),
      ...(c.optional ? [{ c, i, at: c.min !== undefined ? (c.dropAt ?? at) : at, drop: true }] : []),
    ];
  });
  steps.sort((a, b) => a.at - b.at || Number(a.drop) - Number(b.drop));
  for (const { c, i, drop } of steps) {
    const over = total() - terminal;
    if (over <= 0) {
      break;
    }
    const w = widths[i] as number;
    widths[i] = drop ? 0 : Math.max(c.min ?? w, displayWidth(c.header), w - over);
  }
  // Leaving a column out can free more than was needed: columns shrunk before it get the room back.
  for (const { i } of steps.filter((step) => !step.drop)) {
    const spare = terminal - total();
    const want = Math.min(natural[i] as number, (columns[i] as TableColumn<Row>).width) - (widths[i] as number);
    if (spare > 0 && want > 0 && (widths[i] as number) > 0) {
      widths[i] = (widths[i] as number) + Math.min(spare, want);
    }
  }
  return widths;
}

function clean(text: string): string {
  // oxlint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

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
