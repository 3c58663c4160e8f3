import { parseArgs } from 'node:util';
import type { Client, estypes } from '@elastic/elasticsearch';
import type { AppContext } from '../context.ts';
import { errorMessage } from '../errors.ts';
import type { Io } from './io.ts';
import { renderTable, type TableColumn } from './text-table.ts';

/** One rollup bucket as `rollups show` reads it (the fields of src/rollups/compute.ts documents it uses). */
export interface RollupRow {
  kind: 'rank' | 'base_rank' | 'lr_rank';
  lora_rank: number | null;
  family_group?: string;
  lr_band?: string;
  lr_band_low?: number;
  count: number;
  completed: number;
  failed: number;
  cross_family?: boolean;
  families?: string[];
  loss_mean: number | null;
  loss_min?: number | null;
  loss_p50?: number | null;
  success_rate?: number | null;
}

export interface RollupsShowFilter {
  /** A family group (`image/sdxl`) or a family (`sdxl`, matched against the part after the task). */
  family?: string;
  rank?: number;
}

export interface RollupsShowOptions {
  /** Colour the heat map (a terminal). */
  colour: boolean;
  /** Terminal width, or null when piped (nothing cut). */
  columns: number | null;
}

export const ROLLUPS_SHOW_USAGE = `Usage: lora-catalog rollups show [--family <family>] [--rank <n>] [--json]
The rollups as tables, from the rollup index (no run is read):
  by LoRA rank             runs, completed, failed, success rate (all families: counts only)
  base family × rank       runs, mean / best / median final loss, success rate
  learning rate × rank     per base-model family: mean final loss per lr band and rank, as a table
                           and as a heat map (green = lowest loss of that family, red = highest;
                           coloured on a terminal), the best cell of each rank marked *
Final losses of different families are on different scales (SD ~0.03, LLMs ~1): every loss is shown
within one family (task/family) only. --family sdxl (or image/sdxl) and --rank 16 narrow it down:
"which learning rate works best for rank 16 on SDXL" is rollups show --family sdxl --rank 16.`;

/** Rollup buckets are few (one per rank, family × rank, family × band × rank): one page holds them all. */
const MAX_BUCKETS = 10_000;

/** Reads the rank, base_rank and lr_rank buckets, narrowed by the filter. */
export async function loadRollupRows(client: Client, index: string, filter: RollupsShowFilter): Promise<RollupRow[]> {
  const must: estypes.QueryDslQueryContainer[] = [{ terms: { kind: ['rank', 'base_rank', 'lr_rank'] } }];
  if (filter.rank !== undefined) {
    must.push({ term: { lora_rank: filter.rank } });
  }
  const res = await client.search<RollupRow>({ index, size: MAX_BUCKETS, query: { bool: { filter: must } } });
  const rows = res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
  return filter.family === undefined ? rows : rows.filter((r) => r.kind === 'rank' || matchesFamily(r.family_group, filter.family as string));
}

/** The three sections as text. */
export function renderRollups(rows: RollupRow[], opts: RollupsShowOptions): string {
  const ranks = rows.filter((r) => r.kind === 'rank').sort(byRank);
  const baseRanks = rows.filter((r) => r.kind === 'base_rank').sort((a, b) => (a.family_group ?? '').localeCompare(b.family_group ?? '') || byRank(a, b));
  const lrRanks = rows.filter((r) => r.kind === 'lr_rank');
  const sections: string[] = [];
  sections.push(
    `By LoRA rank (all families: counts only, losses of different families do not compare)\n${renderTable(RANK_COLUMNS, ranks, { columns: opts.columns })}`,
  );
  sections.push(`Base-model family × LoRA rank\n${renderTable(BASE_RANK_COLUMNS, baseRanks, { columns: opts.columns })}`);
  const groups = [...new Set(lrRanks.map((r) => r.family_group ?? 'unknown'))].sort();
  for (const group of groups) {
    const cells = lrRanks.filter((r) => (r.family_group ?? 'unknown') === group);
    sections.push(
      `Learning rate × LoRA rank, ${group}: mean final loss (runs)\n${renderTable(
        LR_RANK_COLUMNS,
        [...cells].sort((a, b) => byRank(a, b) || (a.loss_mean ?? Infinity) - (b.loss_mean ?? Infinity)),
        { columns: opts.columns },
      )}\n\n${heatMap(cells, opts.colour)}`,
    );
  }
  if (groups.length === 0) {
    sections.push('Learning rate × LoRA rank: no buckets (no run with a learning rate and a known family matches)');
  }
  return sections.join('\n\n');
}

/**
 * Bands as rows (ascending learning rate), ranks as columns; each cell the mean final loss with its run
 * count. Colours run from green (the family's lowest mean) to red (its highest); `*` marks the best
 * band of each rank. Without colour the marks and numbers carry it all.
 */
export function heatMap(cells: RollupRow[], colour: boolean): string {
  const bands = [...new Map(cells.map((c) => [c.lr_band ?? '?', c.lr_band_low ?? 0])).entries()].sort((a, b) => a[1] - b[1]).map(([band]) => band);
  const ranks = [...new Set(cells.map((c) => c.lora_rank))].sort((a, b) => (a ?? -1) - (b ?? -1));
  const losses = cells.flatMap((c) => (c.loss_mean === null ? [] : [c.loss_mean]));
  const low = Math.min(...losses);
  const high = Math.max(...losses);
  const best = new Map<number | null, number>();
  for (const c of cells) {
    if (c.loss_mean !== null && c.loss_mean < (best.get(c.lora_rank) ?? Infinity)) {
      best.set(c.lora_rank, c.loss_mean);
    }
  }
  const width = 16;
  const bandWidth = Math.max(8, ...bands.map((b) => b.length));
  const header = `${'lr \\ rank'.padEnd(bandWidth)} ${ranks.map((r) => String(r ?? 'none').padStart(width)).join(' ')}`;
  const lines = [header];
  for (const band of bands) {
    const row = ranks.map((rank) => {
      const cell = cells.find((c) => c.lr_band === band && c.lora_rank === rank);
      if (!cell || cell.loss_mean === null) {
        return ' '.repeat(width - 1) + '·';
      }
      const mark = best.get(rank) === cell.loss_mean ? '*' : ' ';
      const text = `${fmt(cell.loss_mean)} (${cell.count})${mark}`.padStart(width);
      return colour ? `${shade(cell.loss_mean, low, high)}${text}\u001b[0m` : text;
    });
    lines.push(`${band.padEnd(bandWidth)} ${row.join(' ')}`);
  }
  lines.push(`* lowest mean final loss of its rank; · no run${colour ? '; green = lowest, red = highest of this family' : ''}`);
  return lines.join('\n');
}

/** `rollups show [--family f] [--rank n]`: the rollup tables and the lr × rank heat map. */
export async function rollupsShowCommand(ctx: AppContext, args: string[], io: Io): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: args.filter((a) => a !== '--json'),
      options: { family: { type: 'string' }, rank: { type: 'string' } },
      allowPositionals: false,
    }));
  } catch (err) {
    io.stderr(`lora-catalog rollups show: ${errorMessage(err)}\n\n${ROLLUPS_SHOW_USAGE}`);
    return 2;
  }
  const rank = values.rank === undefined ? undefined : Number(values.rank);
  if (rank !== undefined && !Number.isInteger(rank)) {
    io.stderr(`lora-catalog rollups show: --rank must be an integer, got ${values.rank}`);
    return 2;
  }
  const rows = await loadRollupRows(ctx.client, ctx.config.indices.rollups, {
    ...(values.family === undefined ? {} : { family: values.family }),
    ...(rank === undefined ? {} : { rank }),
  });
  if (io.json) {
    io.stdout(JSON.stringify({ buckets: rows }, null, 2));
  } else if (rows.length === 0) {
    io.stdout('no rollup buckets match (no runs synced yet? run `lora-catalog sync`; or loosen --family/--rank)');
  } else {
    io.stdout(renderRollups(rows, { colour: io.tty, columns: io.tty ? (process.stdout.columns ?? 120) : null }));
  }
  return rows.length > 0 ? 0 : 1;
}

// --- internal ---

const RANK_COLUMNS: TableColumn<RollupRow>[] = [
  { header: 'RANK', width: 6, align: 'right', cell: (r) => String(r.lora_rank ?? 'none') },
  { header: 'RUNS', width: 6, align: 'right', cell: (r) => String(r.count) },
  { header: 'COMPLETED', width: 9, align: 'right', cell: (r) => String(r.completed) },
  { header: 'FAILED', width: 6, align: 'right', cell: (r) => String(r.failed) },
  { header: 'SUCCESS', width: 7, align: 'right', cell: (r) => pct(r.success_rate) },
  { header: 'FAMILIES', width: 40, min: 10, cell: (r) => (r.families ?? []).join(', ') },
];

const BASE_RANK_COLUMNS: TableColumn<RollupRow>[] = [
  { header: 'FAMILY', width: 24, min: 10, cell: (r) => r.family_group ?? 'unknown' },
  { header: 'RANK', width: 6, align: 'right', cell: (r) => String(r.lora_rank ?? 'none') },
  { header: 'RUNS', width: 6, align: 'right', cell: (r) => String(r.count) },
  { header: 'MEAN LOSS', width: 9, align: 'right', cell: (r) => fmt(r.loss_mean) },
  { header: 'BEST', width: 9, align: 'right', cell: (r) => fmt(r.loss_min ?? null) },
  { header: 'MEDIAN', width: 9, align: 'right', cell: (r) => fmt(r.loss_p50 ?? null) },
  { header: 'SUCCESS', width: 7, align: 'right', cell: (r) => pct(r.success_rate) },
];

const LR_RANK_COLUMNS: TableColumn<RollupRow>[] = [
  { header: 'RANK', width: 6, align: 'right', cell: (r) => String(r.lora_rank ?? 'none') },
  { header: 'LR BAND', width: 14, cell: (r) => r.lr_band ?? '?' },
  { header: 'RUNS', width: 6, align: 'right', cell: (r) => String(r.count) },
  { header: 'MEAN LOSS', width: 9, align: 'right', cell: (r) => fmt(r.loss_mean) },
  { header: 'BEST', width: 9, align: 'right', cell: (r) => fmt(r.loss_min ?? null) },
  { header: 'SUCCESS', width: 7, align: 'right', cell: (r) => pct(r.success_rate) },
];

function matchesFamily(group: string | undefined, wanted: string): boolean {
  const value = (group ?? 'unknown/unknown').toLowerCase();
  const w = wanted.toLowerCase();
  return value === w || value.split('/')[1] === w;
}

function byRank(a: RollupRow, b: RollupRow): number {
  return (a.lora_rank ?? -1) - (b.lora_rank ?? -1);
}

function fmt(value: number | null): string {
  return value === null ? '-' : Number(value.toPrecision(4)).toString();
}

function pct(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : `${Math.round(value * 100)}%`;
}

/** 256-colour background from green (low) through yellow to red (high). */
function shade(value: number, low: number, high: number): string {
  const t = high > low ? (value - low) / (high - low) : 0;
  const palette = [46, 82, 118, 154, 190, 226, 220, 214, 208, 202, 196];
  const code = palette[Math.min(palette.length - 1, Math.round(t * (palette.length - 1)))] ?? 226;
  return `\u001b[48;5;${code}m\u001b[30m`;
}
