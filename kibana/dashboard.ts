import {
  NO_TIME_FILTER_REASON,
  NO_TIME_FILTER_TITLE,
  describe,
  emptySearchSource,
  followsTimePicker,
  savedObject,
  type PanelQuery,
  type QueryOptions,
  type SavedObject,
} from './common.ts';
import { lensObject, lensQuery, type LensPanel } from './lens.ts';
import { vegaObject, vegaQuery, type VegaPanel } from './vega.ts';

export type Panel = LensPanel | VegaPanel;

export interface DashboardPanel {
  panel: Panel;
  /** Width in grid columns (of 48). */
  w: number;
  /** Height in grid rows (20 px each). */
  h: number;
}

export interface DashboardDefinition {
  id: string;
  title: string;
  description: string;
  /** Opening time range start, e.g. `now-90d` (the end is `now`). */
  timeFrom: string;
  /** Laid out left to right, wrapping at 48 columns. */
  panels: DashboardPanel[];
}

/** Kibana's dashboard grid width (KIBANA.md §2.6). */
export const GRID_COLUMNS = 48;

const DASHBOARD_OPTIONS = { useMargins: true, syncColors: false, syncCursor: true, syncTooltips: false, hidePanelTitles: false };

/** The panel's saved object (`lens` or `visualization`). */
export function panelObject(panel: Panel, opts: QueryOptions = {}): SavedObject {
  return panel.kind === 'lens' ? lensObject(panel) : vegaObject(panel, opts);
}

/** The ES request the panel sends. */
export function panelQuery(panel: Panel, opts: QueryOptions = {}): PanelQuery {
  return panel.kind === 'lens' ? lensQuery(panel, opts) : vegaQuery(panel, opts);
}

/** The panel objects followed by the dashboard that references them by id (by-reference panels). */
export function buildDashboard(def: DashboardDefinition, opts: QueryOptions = {}): SavedObject[] {
  const panels: Array<Record<string, unknown>> = [];
  const references: SavedObject['references'] = [];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const [index, { panel, w, h }] of def.panels.entries()) {
    if (x + w > GRID_COLUMNS) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const panelIndex = `p${index + 1}`;
    const type = panel.kind === 'lens' ? 'lens' : 'visualization';
    panels.push({ type, panelIndex, gridData: { x, y, w, h, i: panelIndex }, embeddableConfig: {}, panelRefName: `panel_${panelIndex}` });
    references.push({ name: `${panelIndex}:panel_${panelIndex}`, type, id: panel.id });
    x += w;
    rowHeight = Math.max(rowHeight, h);
  }
  const dashboard = savedObject(
    'dashboard',
    def.id,
    {
      title: def.title,
      description: describe(dashboardDescription(def)),
      timeRestore: true,
      timeFrom: def.timeFrom,
      timeTo: 'now',
      refreshInterval: { pause: true, value: 60_000 },
      optionsJSON: JSON.stringify(DASHBOARD_OPTIONS),
      panelsJSON: JSON.stringify(panels),
      kibanaSavedObjectMeta: emptySearchSource(),
    },
    references,
  );
  return [...def.panels.map(({ panel }) => panelObject(panel, opts)), dashboard];
}

/** The definition's text, plus which panels ignore the time picker when some do. */
export function dashboardDescription(def: DashboardDefinition): string {
  if (def.panels.every(({ panel }) => followsTimePicker(panel.dataView))) {
    return def.description;
  }
  const all = def.panels.every(({ panel }) => !followsTimePicker(panel.dataView));
  return `${def.description} ${all ? 'All panels are' : `Panels titled "… ${NO_TIME_FILTER_TITLE.trim()}" are`} ${NO_TIME_FILTER_REASON}`;
}

/** Every panel's ES request, in panel order. */
export function dashboardQueries(def: DashboardDefinition, opts: QueryOptions = {}): PanelQuery[] {
  return def.panels.map(({ panel }) => panelQuery(panel, opts));
}
