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

/**
 * Loss curves per family group from the `curve` rollups. Each (family group, epoch) has exactly one curve
 * doc, so the average Lens computes is that doc's loss_mean: the exact mean over the runs reaching the
 * epoch (not a mean of means). An average across families compares nothing, hence one line per family.
 */
export function lossPerEpochByRank(): LensPanel {
  return {
    kind: 'lens',
    id: 'lora-catalog-loss-trends-epoch-by-rank',
    title: 'Loss per epoch by base-model family',
    description:
      'Mean per-epoch loss over the runs that reached each epoch (rollups kind curve), one line per family_group (task/base_model_family). One curve doc per family group and epoch, so each point is that exact mean (loss_sum / runs).',
    dataView: 'rollups',
    filter: rollupQuery('curve'),
    chart: {
      type: 'xy',
      seriesType: 'line',
      x: { op: 'terms', id: 'epoch', field: 'epoch', size: 200, dataType: 'number', label: 'Epoch' },
      split: { op: 'terms', id: 'family', field: 'family_group', size: 10, dataType: 'string', label: 'Family group' },
      metrics: [{ op: 'average', id: 'loss', field: 'loss_mean', label: 'Mean epoch loss' }],
    },
  };
}

/**
 * Loss curves per family group and LoRA rank from the `curve_rank` rollups, one line per bucket key
 * (`curve_rank:<task>/<family>:<rank>`): a split on lora_rank alone would average the same rank's curves
 * of different families, which compares nothing.
 */
export function lossPerEpochByFamilyRank(): LensPanel {
  return {
    kind: 'lens',
    id: 'lora-catalog-loss-trends-epoch-by-family-rank',
    title: 'Loss per epoch by base-model family and LoRA rank',
    description:
      'Mean per-epoch loss over the runs that reached each epoch (rollups kind curve_rank), one line per family and rank (curve_rank:<family_group>:<lora_rank>); filter family_group to compare the ranks of one family. One doc per line and epoch, so each point is that exact mean.',
    dataView: 'rollups',
    filter: rollupQuery('curve_rank'),
    chart: {
      type: 'xy',
      seriesType: 'line',
      x: { op: 'terms', id: 'epoch', field: 'epoch', size: 200, dataType: 'number', label: 'Epoch' },
      split: { op: 'terms', id: 'curve', field: 'key', size: 20, dataType: 'string', label: 'Family and rank' },
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
    description: 'Final loss over time by LoRA rank, and loss curves per epoch (per family, per family and rank) from the rollups.',
    timeFrom: 'now-1y',
    panels: [
      { panel: lossFinalByRankOverTime(), w: 48, h: 15 },
      { panel: lossPerEpochByRank(), w: 24, h: 15 },
      { panel: lossPerEpochByFamilyRank(), w: 24, h: 15 },
      { panel: bestLossPerWeek(), w: 48, h: 15 },
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
