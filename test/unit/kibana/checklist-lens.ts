/** A saved object as read back from the NDJSON: nothing trusted. */
export type Raw = Record<string, unknown>;

/** Lens operations our builders emit (`average`, never `avg`). */
const LENS_OPERATIONS = ['date_histogram', 'terms', 'count', 'average', 'sum', 'min', 'max', 'median'];

/** The object items of an array; [] for anything else. */
export function asArray(value: unknown): Raw[] {
  return Array.isArray(value) ? (value.filter((v) => typeof v === 'object' && v !== null) as Raw[]) : [];
}

/** KIBANA.md §5 rules 13, 20–22: layer references, columnOrder, accessors ↔ columns, column shapes. */
export function checkLens(o: Raw, report: (msg: string) => void): void {
  const attributes = o.attributes as Raw;
  const state = attributes.state as Raw | undefined;
  if (typeof state !== 'object' || state === null) {
    report('state is not an object');
    return;
  }
  const layers = (((state.datasourceStates as Raw | undefined)?.formBased as Raw | undefined)?.layers ?? {}) as Record<string, Raw>;
  const refs = asArray(o.references);
  for (const [layerId, layer] of Object.entries(layers)) {
    const matching = refs.filter((r) => r.name === `indexpattern-datasource-layer-${layerId}` && r.type === 'index-pattern');
    if (matching.length !== 1) {
      report(`layer ${layerId}: needs exactly one indexpattern-datasource-layer reference`);
    }
    const columns = (layer.columns ?? {}) as Record<string, Raw>;
    const order = (layer.columnOrder ?? []) as string[];
    if (new Set(order).size !== order.length || [...order].sort().join() !== Object.keys(columns).sort().join()) {
      report(`layer ${layerId}: columnOrder is not exactly the column ids`);
    }
    const firstMetric = order.findIndex((id) => columns[id]?.isBucketed !== true);
    if (firstMetric >= 0 && order.slice(firstMetric).some((id) => columns[id]?.isBucketed === true)) {
      report(`layer ${layerId}: a bucketed column comes after a metric`);
    }
    for (const [id, column] of Object.entries(columns)) {
      checkColumn(id, column, columns, report);
    }
  }
  const used = visualizationAccessors(String(attributes.visualizationType), (state.visualization ?? {}) as Raw);
  for (const { layerId, accessors } of used) {
    const columns = Object.keys((layers[layerId]?.columns ?? {}) as Raw);
    if (layers[layerId] === undefined) {
      report(`visualization layer ${layerId} is not a datasource layer`);
    }
    for (const accessor of accessors) {
      if (!columns.includes(accessor)) {
        report(`accessor ${accessor} is not a column of ${layerId}`);
      }
    }
    for (const column of columns) {
      if (!accessors.includes(column)) {
        report(`column ${column} of ${layerId} is not shown by the visualization`);
      }
    }
  }
}

// --- internal ---

function checkColumn(id: string, c: Raw, columns: Record<string, Raw>, report: (msg: string) => void): void {
  const op = String(c.operationType);
  if (!LENS_OPERATIONS.includes(op)) {
    report(`column ${id}: unknown operationType ${op}`);
  }
  const params = (c.params ?? {}) as Raw;
  if (op === 'date_histogram' && (c.dataType !== 'date' || c.scale !== 'interval' || c.isBucketed !== true)) {
    report(`column ${id}: date_histogram shape`);
  }
  if (op === 'terms') {
    const orderBy = params.orderBy as Raw | undefined;
    if (c.isBucketed !== true || (orderBy?.type === 'column' && columns[String(orderBy.columnId)] === undefined)) {
      report(`column ${id}: terms shape or orderBy.columnId`);
    }
  }
  if (op === 'count' && c.sourceField !== '___records___') {
    report(`column ${id}: count needs sourceField ___records___`);
  }
  if (!['date_histogram', 'terms'].includes(op) && (c.isBucketed !== false || c.scale !== 'ratio')) {
    report(`column ${id}: metric must be isBucketed false, scale ratio`);
  }
  if (typeof c.sourceField !== 'string' || typeof c.label !== 'string') {
    report(`column ${id}: sourceField/label missing`);
  }
}

function visualizationAccessors(type: string, v: Raw): Array<{ layerId: string; accessors: string[] }> {
  const strings = (...values: unknown[]): string[] => values.flat().filter((s): s is string => typeof s === 'string');
  switch (type) {
    case 'lnsXY':
      return asArray(v.layers).map((l) => ({ layerId: String(l.layerId), accessors: strings(l.xAccessor, l.splitAccessor, l.accessors) }));
    case 'lnsDatatable':
      return [{ layerId: String(v.layerId), accessors: strings(asArray(v.columns).map((c) => c.columnId)) }];
    case 'lnsMetric':
      return [{ layerId: String(v.layerId), accessors: strings(v.metricAccessor, v.secondaryMetricAccessor, v.maxAccessor, v.breakdownByAccessor) }];
    case 'lnsHeatmap':
      return [{ layerId: String(v.layerId), accessors: strings(v.xAccessor, v.yAccessor, v.valueAccessor) }];
    default:
      return [{ layerId: '?', accessors: [`unsupported visualizationType ${type}`] }];
  }
}
