import { rollupQuery, runsQuery, type PanelQuery, type QueryOptions, type SavedObject, type TermFilter } from '../common.ts';
import { buildDashboard, dashboardQueries, type DashboardDefinition } from '../dashboard.ts';
import type { LensPanel } from '../lens.ts';

/** Fixed id: re-deploys overwrite the same dashboard. */
export const OVERVIEW_ID = 'lora-catalog-overview';

/** Runs created per ISO week, stacked by status. */
export function runsPerWeekByStatus(): LensPanel {
  return runsPerWeekBy('lora-catalog-overview-runs-by-status', 'Runs per week by status', 'status', 10);
}

/** Runs created per ISO week, stacked by run-directory format (adapter). */
export function runsPerWeekByFormat(): LensPanel {
  return runsPerWeekBy('lora-catalog-overview-runs-by-format', 'Runs per week by format', 'format', 20);
}

/** Runs created per ISO week, stacked by base model family. */
export function runsPerWeekByBaseModel(): LensPanel {
  return runsPerWeekBy('lora-catalog-overview-runs-by-base-model', 'Runs per week by base model', 'base_model_family', 10);
}

/** Total runs in the time range. */
export function runsTotal(): LensPanel {
  return runsCount('lora-catalog-overview-runs-total', 'Runs', 'Runs created in the time range.', {});
}

/** Failed runs in the time range. */
export function failedRunsCount(): LensPanel {
  return runsCount('lora-catalog-overview-runs-failed', 'Failed runs', 'Runs whose status is failed.', { status: 'failed' });
}

/** Completed and failed runs per ISO week from the `week` rollups: the one rollup kind the time picker filters. */
export function weeklyOutcomes(): LensPanel {
  return {
    kind: 'lens',
    id: 'lora-catalog-overview-weekly-outcomes',
    title: 'Completed and failed runs per week (weekly rollups)',
    description:
      'Sum of completed and failed over the week rollups (kind week, one per ISO week and format), placed at week_start; follows the time picker on week_start.',
    dataView: 'rollupsWeekly',
    filter: rollupQuery('week'),
    chart: {
      type: 'xy',
      seriesType: 'bar',
      x: { op: 'date_histogram', id: 'week', field: 'week_start', interval: '1w', label: 'Week' },
      metrics: [
        { op: 'sum', id: 'completed', field: 'completed', label: 'Completed' },
        { op: 'sum', id: 'failed', field: 'failed', label: 'Failed' },
      ],
    },
  };
}

export function definition(): DashboardDefinition {
  return {
    id: OVERVIEW_ID,
    title: 'LoRA catalogue: overview',
    description: 'What was trained when: runs per week by status, format and base model.',
    timeFrom: 'now-1y',
    panels: [
      { panel: runsTotal(), w: 24, h: 6 },
      { panel: failedRunsCount(), w: 24, h: 6 },
      { panel: runsPerWeekByStatus(), w: 48, h: 15 },
      { panel: runsPerWeekByFormat(), w: 24, h: 15 },
      { panel: runsPerWeekByBaseModel(), w: 24, h: 15 },
      { panel: weeklyOutcomes(), w: 48, h: 12 },
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

// --- internal ---

function runsPerWeekBy(id: string, title: string, field: string, size: number): LensPanel {
  return {
    kind: 'lens',
    id,
    title,
    description: `Runs per ISO week of created_at, stacked by ${field}.`,
    dataView: 'runs',
    filter: runsQuery(),
    chart: {
      type: 'xy',
      seriesType: 'bar_stacked',
      x: { op: 'date_histogram', id: 'week', field: 'created_at', interval: '1w', label: 'Week' },
      split: { op: 'terms', id: 'split', field, size, dataType: 'string', label: field, orderBy: { column: 'runs', direction: 'desc' } },
      metrics: [{ op: 'count', id: 'runs', label: 'Runs' }],
    },
  };
}

function runsCount(id: string, title: string, description: string, filter: TermFilter): LensPanel {
  return {
    kind: 'lens',
    id,
    title,
    description,
    dataView: 'runs',
    filter: runsQuery(filter),
    chart: { type: 'metric', metric: { op: 'count', id: 'runs', label: title } },
  };
}
