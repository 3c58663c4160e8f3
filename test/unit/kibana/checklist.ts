import { esRequestsFromSpec } from '../../../kibana/vega.ts';
import { asArray, checkLens, type Raw } from './checklist-lens.ts';

export type { Raw } from './checklist-lens.ts';

/** KIBANA.md §2.2: the newest `typeMigrationVersion` every 9.x (and 8.19) accepts. */
export const VERSION_CEILING: Record<string, string> = {
  'index-pattern': '8.0.0',
  lens: '8.9.0',
  visualization: '8.5.0',
  dashboard: '10.2.0',
};

/** KIBANA.md §2.3–2.6: attributes each type may carry on every 9.x (strict mappings). */
export const ALLOWED_ATTRIBUTES: Record<string, string[]> = {
  'index-pattern': ['title', 'name', 'timeFieldName', 'fields', 'fieldFormatMap', 'runtimeFieldMap', 'fieldAttrs', 'sourceFilters', 'typeMeta', 'allowNoIndex'],
  lens: ['title', 'description', 'visualizationType', 'state'],
  visualization: ['title', 'description', 'version', 'kibanaSavedObjectMeta', 'uiStateJSON', 'visState', 'savedSearchRefName'],
  dashboard: [
    'title',
    'description',
    'panelsJSON',
    'optionsJSON',
    'timeRestore',
    'timeFrom',
    'timeTo',
    'refreshInterval',
    'kibanaSavedObjectMeta',
    'controlGroupInput',
  ],
};

/** Every violation of the offline checklist (KIBANA.md §5, rules 1–13, 15–22, 24–26) in the bundle. */
export function checkBundle(objects: Raw[]): string[] {
  const problems: string[] = [];
  const byKey = new Map<string, Raw>();
  for (const o of objects) {
    const key = `${String(o.type)}:${String(o.id)}`;
    if (byKey.has(key)) {
      problems.push(`${key}: duplicate type:id`);
    }
    byKey.set(key, o);
  }
  for (const o of objects) {
    const at = `${String(o.type)}:${String(o.id)}`;
    const report = (msg: string): void => void problems.push(`${at}: ${msg}`);
    checkEnvelope(o, report);
    for (const ref of asArray(o.references)) {
      if (!byKey.has(`${String(ref.type)}:${String(ref.id)}`)) {
        report(`reference ${String(ref.name)} → ${String(ref.type)}:${String(ref.id)} is not in the bundle`);
      }
    }
    const attributes = (o.attributes ?? {}) as Raw;
    if (o.type === 'index-pattern') {
      expectJson(attributes, ['fields', 'sourceFilters'], 'array', report);
      expectJson(attributes, ['fieldFormatMap', 'runtimeFieldMap', 'fieldAttrs'], 'object', report);
    } else if (o.type === 'dashboard') {
      checkDashboard(o, report);
    } else if (o.type === 'lens') {
      checkLens(o, report);
    } else if (o.type === 'visualization') {
      checkVega(attributes, report);
    }
  }
  return problems;
}

/** `a <= b` for dotted numeric versions. */
export function semverLte(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) {
      return (pa[i] ?? 0) < (pb[i] ?? 0);
    }
  }
  return true;
}

/** Parses a JSON-in-string attribute; undefined when it is not a string or not JSON. */
export function parseJsonString(value: unknown): unknown {
  if (typeof value !== 'string') {
    return undefined;
  }
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

// --- internal ---

function checkEnvelope(o: Raw, report: (msg: string) => void): void {
  const type = String(o.type);
  if (!(type in VERSION_CEILING)) {
    report('unknown type');
    return;
  }
  if (typeof o.id !== 'string' || !/^lora-catalog-[a-z0-9-]+$/.test(o.id)) {
    report('id is not a fixed lora-catalog-* slug');
  }
  if (o.coreMigrationVersion !== '8.8.0') {
    report(`coreMigrationVersion ${String(o.coreMigrationVersion)} is not 8.8.0`);
  }
  const tmv = o.typeMigrationVersion;
  if (typeof tmv !== 'string' || !/^\d+\.\d+\.\d+$/.test(tmv) || !semverLte(tmv, VERSION_CEILING[type] ?? '0.0.0')) {
    report(`typeMigrationVersion ${String(tmv)} missing or newer than ${VERSION_CEILING[type]}`);
  }
  if (typeof o.managed !== 'boolean') {
    report('managed is not a boolean');
  }
  for (const forbidden of ['version', 'namespaces', 'originId', 'migrationVersion', 'exportedCount', 'created_at', 'updated_at']) {
    if (forbidden in o) {
      report(`envelope has ${forbidden}`);
    }
  }
  const attributes = o.attributes as Raw | undefined;
  if (typeof attributes?.title !== 'string' || attributes.title === '') {
    report('attributes.title is not a non-empty string');
  }
  for (const key of Object.keys(attributes ?? {})) {
    if (!ALLOWED_ATTRIBUTES[type]?.includes(key)) {
      report(`attribute ${key} is not allowed for ${type}`);
    }
  }
  const refs = asArray(o.references);
  if (!Array.isArray(o.references) || refs.some((r) => [r.name, r.type, r.id].some((v) => typeof v !== 'string' || v === ''))) {
    report('references are not all {name,type,id} strings');
  }
  if (new Set(refs.map((r) => r.name)).size !== refs.length) {
    report('reference names are not unique');
  }
}

function checkDashboard(o: Raw, report: (msg: string) => void): void {
  const attributes = o.attributes as Raw;
  expectJson(attributes, ['panelsJSON'], 'array', report);
  expectJson(attributes, ['optionsJSON'], 'object', report);
  const source = parseJsonString((attributes.kibanaSavedObjectMeta as Raw | undefined)?.searchSourceJSON) as Raw | undefined;
  if (source?.query === undefined || !Array.isArray(source.filter)) {
    report('searchSourceJSON lacks query/filter');
  }
  const panels = asArray(parseJsonString(attributes.panelsJSON));
  const refs = asArray(o.references);
  const used = new Set<string>();
  const cells: Array<{ x: number; y: number; w: number; h: number; id: string }> = [];
  for (const panel of panels) {
    const index = String(panel.panelIndex);
    const grid = (panel.gridData ?? {}) as Record<string, number>;
    if (grid.i !== panel.panelIndex) {
      report(`panel ${index}: gridData.i differs from panelIndex`);
    }
    const { x = -1, y = -1, w = 0, h = 0 } = grid;
    if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > 48) {
      report(`panel ${index}: grid out of bounds`);
    }
    for (const other of cells) {
      if (x < other.x + other.w && other.x < x + w && y < other.y + other.h && other.y < y + h) {
        report(`panel ${index} overlaps ${other.id}`);
      }
    }
    cells.push({ x, y, w, h, id: index });
    const refName = `${index}:${String(panel.panelRefName)}`;
    const ref = refs.find((r) => r.name === refName);
    if (ref === undefined) {
      report(`panel ${index}: no reference named ${refName}`);
    } else if (ref.type !== panel.type) {
      report(`panel ${index}: type ${String(panel.type)} differs from its reference's ${String(ref.type)}`);
    }
    used.add(refName);
  }
  if (new Set(panels.map((p) => p.panelIndex)).size !== panels.length) {
    report('panelIndex values are not unique');
  }
  for (const ref of refs) {
    if (!used.has(String(ref.name))) {
      report(`reference ${String(ref.name)} is not used by any panel`);
    }
  }
}

function checkVega(attributes: Raw, report: (msg: string) => void): void {
  expectJson(attributes, ['uiStateJSON'], 'object', report);
  const visState = parseJsonString(attributes.visState) as Raw | undefined;
  const aggs = visState?.aggs;
  const spec = parseJsonString((visState?.params as Raw | undefined)?.spec) as Raw | undefined;
  if (visState?.type !== 'vega' || !Array.isArray(aggs) || aggs.length > 0 || spec === undefined) {
    report('visState is not {type:vega, aggs:[], params.spec: JSON}');
    return;
  }
  if (typeof spec.$schema !== 'string' || !spec.$schema.startsWith('https://vega.github.io/schema/vega')) {
    report('spec has no vega $schema');
  }
  const url = (spec.data as Raw | undefined)?.url as Raw | undefined;
  if (typeof url?.index !== 'string' || typeof url.body !== 'object' || url.body === null) {
    report('spec data.url lacks index or body');
  }
  try {
    const requests = esRequestsFromSpec(spec);
    if (requests.length !== 1 || requests[0]?.property === null) {
      report('spec must hold exactly one ES request with format.property');
    }
  } catch (err) {
    report(`spec request cannot be resolved: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function expectJson(attributes: Raw, keys: string[], kind: 'array' | 'object', report: (msg: string) => void): void {
  for (const key of keys) {
    const value = parseJsonString(attributes[key]);
    const ok = kind === 'array' ? Array.isArray(value) : typeof value === 'object' && value !== null && !Array.isArray(value);
    if (!ok) {
      report(`${key} is not a JSON string of an ${kind}`);
    }
  }
}
