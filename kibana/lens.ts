import { ConfigError } from '../src/errors.ts';
import {
  DATA_VIEW_IDS,
  TIME_FIELDS,
  dataViewIndex,
  describe,
  panelTexts,
  savedObject,
  type BucketLevel,
  type DataViewKey,
  type PanelFilter,
  type PanelQuery,
  type QueryOptions,
  type SavedObject,
} from './common.ts';

export interface DateHistogramColumn {
  op: 'date_histogram';
  id: string;
  field: string;
  /** A calendar interval: ES `calendar_interval` and Lens `params.interval` alike. */
  interval: '1d' | '1w' | '1M';
  label?: string;
}

export interface TermsColumn {
  op: 'terms';
  id: string;
  field: string;
  size: number;
  /** `string` for keyword fields, `number` for numeric ones (Kibana sets the field's type). */
  dataType: 'string' | 'number';
  /**
   * Ranking of the values: by a metric column of the same layer (KIBANA.md §2.4 `orderBy.columnId`), or,
   * by default, by key ascending (only for axes whose natural order matters: ranks, epochs).
   */
  orderBy?: { column: string; direction: 'asc' | 'desc' };
  /** Group the values beyond `size` as one "Other" bucket (Lens `otherBucket`); default true. */
  other?: boolean;
  label?: string;
}

export type BucketColumn = DateHistogramColumn | TermsColumn;

export interface MetricColumn {
  op: 'count' | 'average' | 'sum' | 'min' | 'max' | 'median';
  id: string;
  /** Required except for `count`. */
  field?: string;
  label?: string;
}

export type LensChart =
  | { type: 'xy'; seriesType: 'line' | 'bar' | 'bar_stacked' | 'area'; x: BucketColumn; split?: BucketColumn; metrics: MetricColumn[] }
  | { type: 'table'; rows: BucketColumn[]; metrics: MetricColumn[]; sort?: { column: string; direction: 'asc' | 'desc' } }
  | { type: 'metric'; metric: MetricColumn };

/** One Lens chart: the single description both the saved object and the ES request are generated from. */
export interface LensPanel {
  kind: 'lens';
  id: string;
  title: string;
  description: string;
  dataView: DataViewKey;
  filter: PanelFilter;
  chart: LensChart;
}

/** Lens layer id; one layer per chart, so a constant keeps references predictable. */
export const LAYER_ID = 'layer1';

const VISUALIZATION_TYPES = { xy: 'lnsXY', table: 'lnsDatatable', metric: 'lnsMetric' } as const;
const ES_METRIC = { average: 'avg', sum: 'sum', min: 'min', max: 'max' } as const;

/** Buckets (outermost first, which is the aggregation nesting) and metrics of a chart. */
export function lensColumns(chart: LensChart): { buckets: BucketColumn[]; metrics: MetricColumn[] } {
  switch (chart.type) {
    case 'xy':
      return { buckets: chart.split === undefined ? [chart.x] : [chart.split, chart.x], metrics: chart.metrics };
    case 'table':
      return { buckets: chart.rows, metrics: chart.metrics };
    case 'metric':
      return { buckets: [], metrics: [chart.metric] };
  }
}

/** The `lens` saved object (KIBANA.md §2.4), by reference to the panel's data view. */
export function lensObject(panel: LensPanel): SavedObject {
  const { buckets, metrics } = lensColumns(panel.chart);
  const columns: Record<string, unknown> = {};
  for (const column of [...buckets, ...metrics]) {
    columns[column.id] = lensColumn(column);
  }
  const texts = panelTexts(panel.title, [panel.description, ...breakdownNotes(panel.chart)].join(' '), panel.dataView);
  const state = {
    datasourceStates: {
      formBased: {
        layers: {
          [LAYER_ID]: { columnOrder: [...buckets, ...metrics].map((c) => c.id), columns, incompleteColumns: {} },
        },
      },
    },
    visualization: visualizationState(panel.chart),
    query: { query: panel.filter.kql, language: 'kuery' },
    filters: [],
    internalReferences: [],
    adHocDataViews: {},
  };
  return savedObject(
    'lens',
    panel.id,
    { title: texts.title, description: describe(texts.description), visualizationType: VISUALIZATION_TYPES[panel.chart.type], state },
    [{ type: 'index-pattern', id: DATA_VIEW_IDS[panel.dataView], name: `indexpattern-datasource-layer-${LAYER_ID}` }],
  );
}

/**
 * The `_search` Lens sends for this chart, with aggregations named after the column ids: buckets nest
 * outermost first, metrics sit in the innermost bucket, `count` is the bucket's `doc_count` (or
 * `hits.total` without buckets). Time zone is UTC; Kibana uses the `dateFormat:tz` setting.
 */
export function lensQuery(panel: LensPanel, opts: QueryOptions = {}): PanelQuery {
  const { buckets, metrics } = lensColumns(panel.chart);
  const filter: Array<Record<string, unknown>> = [...panel.filter.clauses];
  const timeField = TIME_FIELDS[panel.dataView];
  if (timeField !== null && opts.timeRange !== undefined) {
    filter.push({ range: { [timeField]: { gte: opts.timeRange.from, lte: opts.timeRange.to, format: 'strict_date_optional_time' } } });
  }
  const body: Record<string, unknown> = { size: 0, query: { bool: { filter } } };
  let aggs = metricAggs(metrics);
  for (const bucket of [...buckets].reverse()) {
    // A terms bucket ordered by a metric needs that metric as its direct child, whatever nests below.
    const orderColumn = bucket.op === 'terms' ? bucket.orderBy?.column : undefined;
    const children = { ...aggs, ...metricAggs(metrics.filter((m) => m.id === orderColumn)) };
    aggs = { [bucket.id]: { ...bucketAgg(bucket, metrics, opts), ...(Object.keys(children).length > 0 ? { aggs: children } : {}) } };
  }
  if (Object.keys(aggs).length > 0) {
    body.aggs = aggs;
  }
  if (buckets.length === 0 && metrics.some((m) => m.op === 'count')) {
    body.track_total_hits = true;
  }
  const levels: BucketLevel[] = buckets.map((b) => ({ id: b.id, field: b.field, op: b.op, other: b.op === 'terms' && hasOther(b) }));
  return { panelId: panel.id, index: dataViewIndex(panel.dataView, opts), body, ...(levels.some((l) => l.other) ? { bucketLevels: levels } : {}) };
}

/** One sentence per terms column saying how its values are ranked and what happens beyond its size. */
export function breakdownNotes(chart: LensChart): string[] {
  const { buckets, metrics } = lensColumns(chart);
  return buckets.flatMap((b) => {
    if (b.op !== 'terms') {
      return [];
    }
    const rest = hasOther(b) ? 'the rest as "Other"' : 'further values are not shown';
    if (b.orderBy === undefined) {
      return [`${b.label ?? b.field}: the first ${b.size} values in ascending order, ${rest}.`];
    }
    const by = metrics.find((m) => m.id === b.orderBy?.column);
    return [
      `${b.label ?? b.field}: top ${b.size} by ${by?.label ?? b.orderBy.column} (${b.orderBy.direction === 'desc' ? 'largest' : 'smallest'} first), ${rest}.`,
    ];
  });
}

// --- internal ---

function lensColumn(column: BucketColumn | MetricColumn): Record<string, unknown> {
  const label = column.label === undefined ? {} : { label: column.label, customLabel: true };
  switch (column.op) {
    case 'date_histogram':
      return {
        label: column.field,
        ...label,
        dataType: 'date',
        operationType: 'date_histogram',
        sourceField: column.field,
        isBucketed: true,
        scale: 'interval',
        params: { interval: column.interval, includeEmptyRows: true, dropPartials: false },
      };
    case 'terms':
      return {
        label: `Top ${column.size} values of ${column.field}`,
        ...label,
        dataType: column.dataType,
        operationType: 'terms',
        sourceField: column.field,
        isBucketed: true,
        scale: 'ordinal',
        params: {
          size: column.size,
          orderBy: column.orderBy === undefined ? { type: 'alphabetical', fallback: false } : { type: 'column', columnId: column.orderBy.column },
          orderDirection: column.orderBy?.direction ?? 'asc',
          otherBucket: hasOther(column),
          missingBucket: false,
          parentFormat: { id: 'terms' },
        },
      };
    case 'count':
      return {
        label: 'Count of records',
        ...label,
        dataType: 'number',
        operationType: 'count',
        sourceField: '___records___',
        isBucketed: false,
        scale: 'ratio',
        params: { emptyAsNull: true },
      };
    default:
      return {
        label: `${column.op[0]?.toUpperCase()}${column.op.slice(1)} of ${requireField(column)}`,
        ...label,
        dataType: 'number',
        operationType: column.op,
        sourceField: requireField(column),
        isBucketed: false,
        scale: 'ratio',
        params: { emptyAsNull: true },
      };
  }
}

function visualizationState(chart: LensChart): Record<string, unknown> {
  const common = { layerId: LAYER_ID, layerType: 'data' };
  switch (chart.type) {
    case 'xy': {
      const settings = { x: true, yLeft: true, yRight: true };
      return {
        legend: { isVisible: true, position: 'right' },
        valueLabels: 'hide',
        fittingFunction: 'None',
        preferredSeriesType: chart.seriesType,
        axisTitlesVisibilitySettings: settings,
        tickLabelsVisibilitySettings: settings,
        gridlinesVisibilitySettings: settings,
        labelsOrientation: { x: 0, yLeft: 0, yRight: 0 },
        layers: [
          {
            ...common,
            seriesType: chart.seriesType,
            xAccessor: chart.x.id,
            ...(chart.split === undefined ? {} : { splitAccessor: chart.split.id }),
            accessors: chart.metrics.map((m) => m.id),
          },
        ],
      };
    }
    case 'table':
      return {
        ...common,
        columns: [...chart.rows, ...chart.metrics].map((c) => ({ columnId: c.id, isTransposed: false })),
        ...(chart.sort === undefined ? {} : { sorting: { columnId: chart.sort.column, direction: chart.sort.direction } }),
      };
    case 'metric':
      return { ...common, metricAccessor: chart.metric.id };
  }
}

function bucketAgg(bucket: BucketColumn, metrics: MetricColumn[], opts: QueryOptions): Record<string, unknown> {
  if (bucket.op === 'date_histogram') {
    const bounds = opts.timeRange === undefined ? {} : { extended_bounds: { min: opts.timeRange.from, max: opts.timeRange.to } };
    return { date_histogram: { field: bucket.field, calendar_interval: bucket.interval, time_zone: 'UTC', min_doc_count: 0, ...bounds } };
  }
  const order = bucket.orderBy;
  if (order === undefined) {
    return { terms: { field: bucket.field, size: bucket.size, order: { _key: 'asc' } } };
  }
  const metric = metrics.find((m) => m.id === order.column);
  if (metric === undefined) {
    throw new ConfigError('config-invalid', `terms column ${bucket.id} orders by unknown metric column ${order.column}`);
  }
  return { terms: { field: bucket.field, size: bucket.size, order: { [metric.op === 'count' ? '_count' : metric.id]: order.direction } } };
}

function metricAggs(metrics: MetricColumn[]): Record<string, unknown> {
  const aggs: Record<string, unknown> = {};
  for (const metric of metrics) {
    if (metric.op === 'count') {
      continue;
    }
    aggs[metric.id] =
      metric.op === 'median' ? { percentiles: { field: requireField(metric), percents: [50] } } : { [ES_METRIC[metric.op]]: { field: requireField(metric) } };
  }
  return aggs;
}

function hasOther(column: TermsColumn): boolean {
  return column.other ?? true;
}

function requireField(metric: MetricColumn): string {
  if (metric.field === undefined) {
    throw new ConfigError('config-invalid', `metric column ${metric.id} (${metric.op}) needs a field`);
  }
  return metric.field;
}
