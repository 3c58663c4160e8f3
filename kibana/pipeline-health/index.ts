import { termFilter, type PanelQuery, type QueryOptions, type SavedObject } from '../common.ts';
import { buildDashboard, dashboardQueries, type DashboardDefinition } from '../dashboard.ts';
import type { DateHistogramColumn, LensPanel } from '../lens.ts';

/** Fixed id: re-deploys overwrite the same dashboard. */
export const PIPELINE_HEALTH_ID = 'lora-catalog-pipeline-health';

/** Syncs started per day, stacked by status. */
export function syncsPerDayByStatus(): LensPanel {
  return {
    kind: 'lens',
    id: 'lora-catalog-pipeline-syncs-by-status',
    title: 'Syncs per day by status',
    description: 'Sync runs (lora-sync-runs) started per day, stacked by status.',
    dataView: 'syncRuns',
    filter: termFilter({}),
    chart: {
      type: 'xy',
      seriesType: 'bar_stacked',
      x: perDay(),
      split: { op: 'terms', id: 'status', field: 'status', size: 10, dataType: 'string', label: 'Status', orderBy: { column: 'syncs', direction: 'desc' } },
      metrics: [{ op: 'count', id: 'syncs', label: 'Syncs' }],
    },
  };
}

/** Sync duration per day: mean and worst. */
export function syncDuration(): LensPanel {
  return {
    kind: 'lens',
    id: 'lora-catalog-pipeline-duration',
    title: 'Sync duration',
    description: 'Mean and maximum duration_ms of the syncs started each day.',
    dataView: 'syncRuns',
    filter: termFilter({}),
    chart: {
      type: 'xy',
      seriesType: 'line',
      x: perDay(),
      metrics: [
        { op: 'average', id: 'mean_ms', field: 'duration_ms', label: 'Mean duration (ms)' },
        { op: 'max', id: 'max_ms', field: 'duration_ms', label: 'Max duration (ms)' },
      ],
    },
  };
}

/** Runs new, changed and vanished per day, summed over syncs. */
export function syncChangeCounts(): LensPanel {
  return {
    kind: 'lens',
    id: 'lora-catalog-pipeline-counts',
    title: 'Runs new / changed / vanished per day',
    description: 'Sum of counts.new, counts.changed and counts.vanished over the syncs started each day.',
    dataView: 'syncRuns',
    filter: termFilter({}),
    chart: {
      type: 'xy',
      seriesType: 'bar',
      x: perDay(),
      metrics: [
        { op: 'sum', id: 'new', field: 'counts.new', label: 'New' },
        { op: 'sum', id: 'changed', field: 'counts.changed', label: 'Changed' },
        { op: 'sum', id: 'vanished', field: 'counts.vanished', label: 'Vanished' },
      ],
    },
  };
}

/** Run-level errors per day (errors_total summed over syncs). */
export function syncErrorsPerDay(): LensPanel {
  return {
    kind: 'lens',
    id: 'lora-catalog-pipeline-errors-per-day',
    title: 'Sync errors per day',
    description: 'Sum of errors_total over the syncs started each day.',
    dataView: 'syncRuns',
    filter: termFilter({}),
    chart: { type: 'xy', seriesType: 'bar', x: perDay(), metrics: [{ op: 'sum', id: 'errors', field: 'errors_total', label: 'Errors' }] },
  };
}

/** Total run-level errors in the time range. */
export function syncErrorsTotal(): LensPanel {
  return {
    kind: 'lens',
    id: 'lora-catalog-pipeline-errors-total',
    title: 'Sync errors',
    description: 'Sum of errors_total over the syncs in the time range.',
    dataView: 'syncRuns',
    filter: termFilter({}),
    chart: { type: 'metric', metric: { op: 'sum', id: 'errors', field: 'errors_total', label: 'Errors' } },
  };
}

export function definition(): DashboardDefinition {
  return {
    id: PIPELINE_HEALTH_ID,
    title: 'LoRA catalogue: pipeline health',
    description: 'Is the sync job healthy: syncs by status, duration, run changes, errors.',
    timeFrom: 'now-30d',
    panels: [
      { panel: syncErrorsTotal(), w: 12, h: 15 },
      { panel: syncsPerDayByStatus(), w: 36, h: 15 },
      { panel: syncDuration(), w: 24, h: 15 },
      { panel: syncChangeCounts(), w: 24, h: 15 },
      { panel: syncErrorsPerDay(), w: 48, h: 12 },
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

function perDay(): DateHistogramColumn {
  return { op: 'date_histogram', id: 'day', field: 'started_at', interval: '1d', label: 'Day' };
}
