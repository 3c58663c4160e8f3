import { rollupQuery, type PanelQuery, type QueryOptions, type SavedObject } from '../common.ts';
import { buildDashboard, dashboardQueries, type DashboardDefinition } from '../dashboard.ts';
import type { LensPanel } from '../lens.ts';
import { lrRankHeatmap } from './heatmap.ts';

export { lrRankHeatmap } from './heatmap.ts';

/** Fixed id: re-deploys overwrite the same dashboard. */
export const RANKS_ID = 'lora-catalog-ranks';

/**
 * One row per base-model family group and LoRA rank from the `base_rank` rollups (one doc each, so each
 * aggregate is that doc's value). Not the `rank` rollups: they span families and carry no loss statistics.
 */
export function rankSummaryTable(): LensPanel {
  return {
    kind: 'lens',
    id: 'lora-catalog-ranks-summary',
    title: 'LoRA ranks per base-model family: runs and loss',
    description:
      'Per family_group (task/base_model_family) and lora_rank (rollups kind base_rank): runs, mean/best/median final loss, success rate, epochs to best.',
    dataView: 'rollups',
    filter: rollupQuery('base_rank'),
    chart: {
      type: 'table',
      rows: [
        {
          op: 'terms',
          id: 'family',
          field: 'family_group',
          size: 20,
          dataType: 'string',
          label: 'Family group',
          orderBy: { column: 'runs', direction: 'desc' },
        },
        { op: 'terms', id: 'rank', field: 'lora_rank', size: 50, dataType: 'number', label: 'LoRA rank', orderBy: { column: 'runs', direction: 'desc' } },
      ],
      metrics: [
        { op: 'sum', id: 'runs', field: 'count', label: 'Runs' },
        { op: 'average', id: 'loss_mean', field: 'loss_mean', label: 'Mean final loss' },
        { op: 'min', id: 'loss_min', field: 'loss_min', label: 'Best final loss' },
        { op: 'average', id: 'loss_p50', field: 'loss_p50', label: 'Median final loss' },
        { op: 'average', id: 'success_rate', field: 'success_rate', label: 'Success rate' },
        { op: 'average', id: 'epochs_to_best', field: 'epochs_to_best_mean', label: 'Epochs to best (mean)' },
      ],
      sort: { column: 'rank', direction: 'asc' },
    },
  };
}

/** Mean final loss per LoRA rank as bars, one series per family group (losses of different families do not compare). */
export function meanLossByRank(): LensPanel {
  return {
    kind: 'lens',
    id: 'lora-catalog-ranks-mean-loss',
    title: 'Mean final loss by LoRA rank and base-model family',
    description: 'loss_mean of the base_rank rollups, one series per family_group.',
    dataView: 'rollups',
    filter: rollupQuery('base_rank'),
    chart: {
      type: 'xy',
      seriesType: 'bar',
      x: { op: 'terms', id: 'rank', field: 'lora_rank', size: 50, dataType: 'number', label: 'LoRA rank' },
      split: { op: 'terms', id: 'family', field: 'family_group', size: 20, dataType: 'string', label: 'Family group' },
      metrics: [{ op: 'average', id: 'loss_mean', field: 'loss_mean', label: 'Mean final loss' }],
    },
  };
}

/** Base model family × LoRA rank from the `base_rank` rollups. */
export function baseModelRankTable(): LensPanel {
  return {
    kind: 'lens',
    id: 'lora-catalog-ranks-base-model',
    title: 'Base model × LoRA rank',
    description: 'Runs and mean final loss per base_model_family and lora_rank (rollups kind base_rank).',
    dataView: 'rollups',
    filter: rollupQuery('base_rank'),
    chart: {
      type: 'table',
      rows: [
        {
          op: 'terms',
          id: 'family',
          field: 'base_model_family',
          size: 20,
          dataType: 'string',
          label: 'Base model family',
          orderBy: { column: 'runs', direction: 'desc' },
        },
        { op: 'terms', id: 'rank', field: 'lora_rank', size: 50, dataType: 'number', label: 'LoRA rank', orderBy: { column: 'runs', direction: 'desc' } },
      ],
      metrics: [
        { op: 'sum', id: 'runs', field: 'count', label: 'Runs' },
        { op: 'average', id: 'loss_mean', field: 'loss_mean', label: 'Mean final loss' },
      ],
    },
  };
}

export function definition(): DashboardDefinition {
  return {
    id: RANKS_ID,
    title: 'LoRA catalogue: ranks',
    description: 'Which LoRA ranks work: per-rank averages, base model × rank, learning rate × rank.',
    timeFrom: 'now-1y',
    panels: [
      { panel: rankSummaryTable(), w: 28, h: 15 },
      { panel: meanLossByRank(), w: 20, h: 15 },
      { panel: lrRankHeatmap(), w: 28, h: 18 },
      { panel: baseModelRankTable(), w: 20, h: 18 },
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
