import asciichart from 'asciichart';

export interface ChartSeries {
  label: string;
  /** (epoch, loss) pairs in epoch order. */
  points: Array<{ epoch: number; loss: number }>;
}

export interface ChartOptions {
  /** Terminal columns available, labels included. */
  width: number;
  /** Plot rows; default 10. */
  height?: number;
  /** ANSI colours, one per series (only on a terminal). */
  color: boolean;
}

/** Colours in series order; the legend uses the same ones. */
const COLORS = [asciichart.blue, asciichart.lightred, asciichart.green, asciichart.yellow, asciichart.magenta, asciichart.cyan];

/** Width of the y-axis labels (asciichart's `padding`) plus the axis. */
const LABEL_WIDTH = 10;

/** Wider charts stop being easier to read; narrower ones cannot show a trend. */
const MIN_PLOT = 16;
const MAX_PLOT = 72;

/**
 * A line chart of loss per epoch (asciichart), one line per series, all on one epoch axis: each series is sampled
 * at the plot's columns by linear interpolation between its epochs, so 3 and 30 epochs both fill the width.
 * Empty string when no series has two points.
 */
export function lossChart(series: ChartSeries[], opts: ChartOptions): string {
  const drawn = series.filter((s) => s.points.length >= 2);
  if (drawn.length === 0) {
    return '';
  }
  const first = Math.min(...drawn.map((s) => (s.points[0] as { epoch: number }).epoch));
  const last = Math.max(...drawn.map((s) => (s.points.at(-1) as { epoch: number }).epoch));
  const columns = Math.max(MIN_PLOT, Math.min(MAX_PLOT, opts.width - LABEL_WIDTH - 2));
  const lines = drawn.map((s) => resample(s.points, first, last, columns));
  const colors = drawn.map((_, i) => (opts.color ? COLORS[i % COLORS.length] : undefined));
  const plot = asciichart.plot(lines, {
    height: opts.height ?? 10,
    padding: ' '.repeat(LABEL_WIDTH - 1),
    offset: 2,
    colors,
    format: (y: number) => formatLoss(y).padStart(LABEL_WIDTH - 1),
  });
  const axis = `${' '.repeat(LABEL_WIDTH + 1)}epoch ${first}${' '.repeat(Math.max(1, columns - 12 - String(first).length - String(last).length))}epoch ${last}`;
  const legend = drawn.map((s, i) => {
    // Without colour the lines cannot be told apart; the legend then only names the runs in order.
    const mark = opts.color ? asciichart.colored('──', colors[i]) : drawn.length > 1 ? `(${i + 1})` : '──';
    return `${' '.repeat(LABEL_WIDTH + 1)}${mark} ${s.label}`;
  });
  return [...plot.split('\n').map((l) => l.trimEnd()), axis, ...legend].join('\n');
}

// --- internal ---

/** Values at `columns` evenly spaced epochs from `first` to `last`; a series ending earlier stops earlier. */
function resample(points: ChartSeries['points'], first: number, last: number, columns: number): number[] {
  const out: number[] = [];
  const end = (points.at(-1) as { epoch: number }).epoch;
  const start = (points[0] as { epoch: number }).epoch;
  for (let c = 0; c < columns; c++) {
    const x = last === first ? first : first + (c * (last - first)) / (columns - 1);
    if (x > end + 1e-9) {
      break;
    }
    out.push(interpolate(points, Math.max(x, start)));
  }
  return out;
}

function interpolate(points: ChartSeries['points'], x: number): number {
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as { epoch: number; loss: number };
    const b = points[i] as { epoch: number; loss: number };
    if (x <= b.epoch) {
      return b.epoch === a.epoch ? b.loss : a.loss + ((x - a.epoch) / (b.epoch - a.epoch)) * (b.loss - a.loss);
    }
  }
  return (points.at(-1) as { loss: number }).loss;
}

function formatLoss(y: number): string {
  return Math.abs(y) >= 1000 || (Math.abs(y) < 1e-3 && y !== 0) ? y.toExponential(2) : String(Number(y.toPrecision(3)));
}
