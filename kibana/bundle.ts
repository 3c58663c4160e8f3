import { dataViews, type PanelQuery, type QueryOptions, type SavedObject } from './common.ts';
import * as lossTrends from './loss-trends/index.ts';
import * as overview from './overview/index.ts';
import * as pipelineHealth from './pipeline-health/index.ts';
import * as ranks from './ranks/index.ts';

export interface DashboardModule {
  build: (opts?: QueryOptions) => SavedObject[];
  panelQueries: (opts?: QueryOptions) => PanelQuery[];
}

/** Every dashboard, in the order they are written to the bundle. */
export const DASHBOARDS = { overview, lossTrends, ranks, pipelineHealth } as const satisfies Record<string, DashboardModule>;

/** Data views first (what they reference comes first, like Kibana's export), then each dashboard's objects. */
export function buildBundle(opts: QueryOptions = {}): SavedObject[] {
  return [...dataViews(opts), ...Object.values(DASHBOARDS).flatMap((d) => d.build(opts))];
}

/** The ES request of every panel of every dashboard. */
export function panelQueries(opts: QueryOptions = {}): PanelQuery[] {
  return Object.values(DASHBOARDS).flatMap((d) => d.panelQueries(opts));
}

/** One object per line, keys sorted recursively (as Kibana's export does), trailing newline. */
export function toNdjson(objects: SavedObject[]): string {
  return objects.map((o) => JSON.stringify(sortKeys(o))).join('\n') + '\n';
}

/** The NDJSON import file for the given index names. */
export function renderBundle(opts: QueryOptions = {}): string {
  return toNdjson(buildBundle(opts));
}

// --- internal ---

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(sortKeys);
  }
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}
