import { ConfigError } from '../src/errors.ts';
import {
  TIME_FIELDS,
  dataViewIndex,
  describe,
  emptySearchSource,
  panelTexts,
  savedObject,
  type DataViewKey,
  type PanelFilter,
  type PanelQuery,
  type QueryOptions,
  type SavedObject,
} from './common.ts';

/** A Vega-Lite chart whose data comes from one Elasticsearch request. */
export interface VegaPanel {
  kind: 'vega';
  id: string;
  title: string;
  description: string;
  dataView: DataViewKey;
  filter: PanelFilter;
  /** The `_search` body without `query` (the builder adds the filter and the dashboard context). */
  body: Record<string, unknown>;
  /** Where the rows are in the response, e.g. `aggregations.by_band.buckets`. */
  property: string;
  /** The rest of the Vega-Lite spec: transform, mark, encoding… */
  spec: Record<string, unknown>;
}

/** One ES request found in a Vega spec, resolved the way Kibana's EsQueryParser does. */
export interface VegaRequest {
  index: string;
  body: Record<string, unknown>;
  /** `format.property` of the data object, if any. */
  property: string | null;
}

/** Vega-Lite v5: what Kibana 8.x/9.x bundle; `$schema` decides between Vega and Vega-Lite. */
export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

const CONTEXT_CLAUSES = ['%dashboard_context-must_clause%', '%dashboard_context-filter_clause%', '%dashboard_context-must_not_clause%'];

/** The full spec: `$schema`, title, the `data.url` request (filter + dashboard context + time filter), the panel's spec. */
export function vegaSpec(panel: VegaPanel, opts: QueryOptions = {}): Record<string, unknown> {
  const timeField = TIME_FIELDS[panel.dataView];
  const must: unknown[] = [...panel.filter.clauses];
  if (timeField !== null) {
    must.push({ range: { [timeField]: { '%timefilter%': true } } });
  }
  must.push(CONTEXT_CLAUSES[0]);
  const query = { bool: { must, filter: [CONTEXT_CLAUSES[1]], should: [], must_not: [CONTEXT_CLAUSES[2]] } };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: panelTexts(panel.title, panel.description, panel.dataView).title,
    data: {
      url: { index: dataViewIndex(panel.dataView, opts), body: { ...panel.body, query } },
      format: { property: panel.property },
    },
    ...panel.spec,
  };
}

/** The `visualization` saved object of type vega (KIBANA.md §2.5); no references, the spec names its index. */
export function vegaObject(panel: VegaPanel, opts: QueryOptions = {}): SavedObject {
  const texts = panelTexts(panel.title, panel.description, panel.dataView);
  const visState = { title: texts.title, type: 'vega', aggs: [], params: { spec: JSON.stringify(vegaSpec(panel, opts), null, 2) } };
  return savedObject('visualization', panel.id, {
    title: texts.title,
    description: describe(texts.description),
    version: 1,
    uiStateJSON: '{}',
    visState: JSON.stringify(visState),
    kibanaSavedObjectMeta: emptySearchSource(),
  });
}

/** The request the emitted object sends, read back from its `visState` so the two cannot drift. */
export function vegaQuery(panel: VegaPanel, opts: QueryOptions = {}): PanelQuery {
  const object = vegaObject(panel, opts);
  const visState = JSON.parse(String(object.attributes.visState)) as { params: { spec: string } };
  const requests = esRequestsFromSpec(JSON.parse(visState.params.spec), opts.timeRange);
  const [request] = requests;
  if (request === undefined || requests.length > 1) {
    throw new ConfigError('config-invalid', `vega panel ${panel.id} must have exactly one Elasticsearch data request, found ${requests.length}`);
  }
  return { panelId: panel.id, index: request.index, body: request.body };
}

/**
 * Every Elasticsearch request in a Vega/Vega-Lite spec, resolved per Kibana's EsQueryParser (KIBANA.md
 * §5 rule 26): dashboard-context placeholders become empty, `%timefilter%` becomes the given range (or
 * its clause is dropped when no range is given: "all time"), `%context%`/`%timefield%` build the query.
 */
export function esRequestsFromSpec(spec: unknown, timeRange?: { from: string; to: string }): VegaRequest[] {
  const found: VegaRequest[] = [];
  walkData(spec, (data) => {
    const url = data.url;
    if (!isObject(url) || (url['%type%'] !== undefined && url['%type%'] !== 'elasticsearch')) {
      return;
    }
    if (typeof url.index !== 'string' || url.index === '') {
      throw new ConfigError('config-invalid', 'vega data.url needs an index');
    }
    const body = structuredClone(isObject(url.body) ? url.body : {});
    const context = url['%context%'] === true;
    const timefield = typeof url['%timefield%'] === 'string' ? url['%timefield%'] : null;
    if ((context || timefield !== null) && body.query !== undefined) {
      throw new ConfigError('config-invalid', 'url.%context% and url.%timefield% must not be used when url.body.query is set');
    }
    if (context || timefield !== null) {
      const must: unknown[] = [];
      if (timefield !== null && timeRange !== undefined) {
        must.push({ range: { [timefield]: { gte: timeRange.from, lte: timeRange.to, format: 'strict_date_optional_time' } } });
      }
      body.query = { bool: { must, filter: [], should: [], must_not: [] } };
    }
    const format = data.format;
    const property = isObject(format) && typeof format.property === 'string' ? format.property : null;
    found.push({ index: url.index, body: resolvePlaceholders(body, timeRange) as Record<string, unknown>, property });
  });
  return found;
}

// --- internal ---

function walkData(node: unknown, visit: (data: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) {
      walkData(item, visit);
    }
    return;
  }
  if (!isObject(node)) {
    return;
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === 'data') {
      for (const data of Array.isArray(value) ? value : [value]) {
        if (isObject(data)) {
          visit(data);
        }
      }
      continue;
    }
    walkData(value, visit);
  }
}

function resolvePlaceholders(node: unknown, timeRange: { from: string; to: string } | undefined): unknown {
  if (Array.isArray(node)) {
    return node
      .filter((item) => !(typeof item === 'string' && CONTEXT_CLAUSES.includes(item)))
      .filter((item) => timeRange !== undefined || !hasTimefilter(item))
      .map((item) => resolvePlaceholders(item, timeRange));
  }
  if (!isObject(node)) {
    return node;
  }
  if (node['%timefilter%'] === true && timeRange !== undefined) {
    return { gte: timeRange.from, lte: timeRange.to, format: 'strict_date_optional_time' };
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolvePlaceholders(v, timeRange)]));
}

function hasTimefilter(node: unknown): boolean {
  if (Array.isArray(node)) {
    return node.some(hasTimefilter);
  }
  return isObject(node) && (node['%timefilter%'] !== undefined || Object.values(node).some(hasTimefilter));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
