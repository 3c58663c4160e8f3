import { rollupQuery, runsQuery, type PanelQuery, type QueryOptions, type SavedObject } from '../common.ts';
import { buildDashboard, dashboardQueries, type DashboardDefinition } from '../dashboard.ts';
import type { LensPanel } from '../lens.ts';

/** Fixed id: re-deploys overwrite the same dashboard. */
export const LOSS_TRENDS_ID = 'lora-catalog-loss-trends';

/** Weekly mean of loss_final, one line per LoRA rank. */
export function lossFinalByRankOverTime(): LensPanel {
  return {
    kind: 'lens',
    id: 'lora-catalog-loss-trends-final-by-rank',
    title: 'Final loss over time by LoRA rank',
    description: 'Mean loss_final of runs created each ISO week, one line per lora_rank.',
    dataView: 'runs',
    filter: runsQuery(),
    chart: {
      type: 'xy',
      seriesType: 'line',
      x: { op: 'date_histogram', id: 'week', field: 'created_at', interval: '1w', label: 'Week' },
      // Ranks keep their natural order (a legend 4, 8, 16…); 20 covers the usual powers of two, Other the rest.
      split: { op: 'terms', id: 'rank', field: 'lora_rank', size: 20, dataType: 'number', label: 'LoRA rank' },
      metrics: [{ op: 'average', id: 'loss', field: 'loss_final', label: 'Mean final loss' }],
    },
  };
}

/** Loss curves: the per-epoch mean loss (rollup kind run_epoch) averaged per family group (an average across families compares nothing). */
export function lossPerEpochByRank(): LensPanel {
  return {
    kind: 'lens',
    id: 'lora-catalog-loss-trends-epoch-by-rank',
    title: 'Loss per epoch by base-model family',
    description:
      'Mean of the per-epoch loss over runs (rollups kind run_epoch), one line per family_group (task/base_model_family); filter lora_rank or run_id to narrow.',
    dataView: 'rollups',
    filter: rollupQuery('run_epoch'),
    chart: {
      type: 'xy',
      seriesType: 'line',
      x: { op: 'terms', id: 'epoch', field: 'epoch', size: 200, dataType: 'number', label: 'Epoch' },
      split: { op: 'terms', id: 'family', field: 'family_group', size: 10, dataType: 'string', label: 'Family group' },
      metrics: [{ op: 'average', id: 'loss', field: 'loss_mean', label: 'Mean epoch loss' }],
    },
  };
}

/** Best (lowest) final loss per week: whether the catalogue is getting better. */
export function bestLossPerWeek(): LensPanel {
  return {
    kind: 'lens',
    id: 'lora-catalog-loss-trends-best-per-week',
    title: 'Best final loss per week',
    description: 'Lowest and median loss_final of runs created each ISO week.',
    dataView: 'runs',
    filter: runsQuery({ status: 'completed' }),
    chart: {
      type: 'xy',
      seriesType: 'line',
      x: { op: 'date_histogram', id: 'week', field: 'created_at', interval: '1w', label: 'Week' },
      metrics: [
        { op: 'min', id: 'best', field: 'loss_final', label: 'Best final loss' },
        { op: 'median', id: 'median', field: 'loss_final', label: 'Median final loss' },
      ],
    },
  };
}

export function definition(): DashboardDefinition {
  return {
    id: LOSS_TRENDS_ID,
    title: 'LoRA catalogue: loss trends',
    description: 'Final loss over time by LoRA rank, and loss curves per epoch from the rollups.',
    timeFrom: 'now-1y',
    panels: [
      { panel: lossFinalByRankOverTime(), w: 48, h: 15 },
      { panel: lossPerEpochByRank(), w: 24, h: 15 },
      { panel: bestLossPerWeek(), w: 24, h: 15 },
    ],
  };
}

/** Panel objects and the dashboard. */
export function build(opts: QueryOptions = {}): SavedObject[] {
  return buildDashboard(definition(), opts);
}

/** The ES request of every panel, in panel order. */
export function panelQueries(opts: QueryOptions = {}): PanelQuery[] {
  return dashboardQueries(definition(), opts);
}
