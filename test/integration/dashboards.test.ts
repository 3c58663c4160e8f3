import type { Client, estypes } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, panelQueries } from '../../kibana/bundle.ts';
import type { IndexNames, PanelQuery, QueryOptions } from '../../kibana/common.ts';
import { OTHER_KEY, runPanelQuery } from '../../kibana/other-bucket.ts';
import { INDEX_SETTINGS, rollupsMappings, runsMappings, syncRunsMappings } from '../../src/es/mappings.ts';
import { ROLLUPS, RUNS, SYNCS } from '../fixtures/kibana/dashboard-data.ts';
import { MANY_ROLLUPS, MANY_RUNS } from '../fixtures/kibana/many-values.ts';
import { deleteIndexQuietly, esClient, uniqueName } from './helpers.ts';

type Doc = Record<string, unknown>;
type Bucket = { key: string | number; key_as_string?: string; doc_count: number } & Record<string, unknown>;

const W02 = '2025-01-06';
const W03 = '2025-01-13';

describe('kibana dashboards: every panel query against Elasticsearch', () => {
  let client: Client;
  let indices: IndexNames;

  beforeAll(async () => {
    client = esClient();
    indices = await createIndices(client, 'dash', { runs: RUNS, rollups: ROLLUPS, syncRuns: SYNCS });
  });

  afterAll(async () => {
    await deleteIndexQuietly(client, Object.values(indices));
  });

  const responses = async (opts: QueryOptions = {}): Promise<Map<string, estypes.SearchResponse>> => panelResponses(client, { ...opts, indices });

  it('Lens columns and data view time fields fit the real mappings (KIBANA.md §5 rules 14, 23)', async () => {
    const objects = buildBundle({ indices });
    const titles = new Map(objects.filter((o) => o.type === 'index-pattern').map((o) => [o.id, String(o.attributes.title)]));
    const problems: string[] = [];

    for (const o of objects) {
      if (o.type === 'index-pattern' && o.attributes.timeFieldName !== undefined) {
        const fields = await aggregatableFields(client, String(o.attributes.title));
        if (fields[String(o.attributes.timeFieldName)] !== 'date') {
          problems.push(`${o.id}: timeFieldName is not a date`);
        }
      }
      if (o.type !== 'lens') {
        continue;
      }
      const fields = await aggregatableFields(client, titles.get(o.references[0]?.id ?? '') ?? '');
      const state = o.attributes.state as { datasourceStates: { formBased: { layers: Record<string, { columns: Record<string, Doc> }> } } };
      for (const layer of Object.values(state.datasourceStates.formBased.layers)) {
        for (const [id, column] of Object.entries(layer.columns)) {
          const type = fields[String(column.sourceField)];
          if (!fitsMapping(column, type)) {
            problems.push(`${o.id}.${id}: ${String(column.operationType)} on ${String(column.sourceField)} (${type ?? 'missing or not aggregatable'})`);
          }
        }
      }
    }

    expect(problems).toEqual([]);
  });

  it('every panel queries our own indices and each one is asserted below', () => {
    const queries = panelQueries({ indices });

    expect(new Set(queries.map((q) => q.index))).toEqual(new Set(Object.values(indices)));
    expect(queries.map((q) => q.panelId).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  const EXPECTED: Record<string, unknown> = {
    'lora-catalog-overview-runs-total': 6,
    'lora-catalog-overview-runs-failed': 2,
    'lora-catalog-overview-runs-by-status': { completed: { [W02]: 2, [W03]: 2 }, failed: { [W02]: 1, [W03]: 1 } },
    'lora-catalog-overview-runs-by-format': { kohya: { [W02]: 3, [W03]: 1 }, peft: { [W03]: 2 } },
    'lora-catalog-overview-runs-by-base-model': { flux: { [W02]: 1, [W03]: 1 }, sdxl: { [W02]: 2, [W03]: 2 } },
    'lora-catalog-overview-weekly-outcomes': { [W02]: { completed: 2, failed: 1 } },
    'lora-catalog-loss-trends-final-by-rank': { 8: { [W02]: 0.15, [W03]: 0.4 }, 16: { [W02]: null, [W03]: 0.3 }, 32: { [W03]: 0.9 } },
    'lora-catalog-loss-trends-epoch-by-rank': { 'image/sdxl': { 1: 0.7, 2: 0.4 }, 'image/flux': { 1: 0.9, 2: 0.6, 3: 0.4 } },
    'lora-catalog-loss-trends-epoch-by-family-rank': {
      'curve_rank:image/flux:16': { 1: 0.9, 2: 0.6, 3: 0.4 },
      'curve_rank:image/sdxl:32': { 1: 0.9 },
      'curve_rank:image/sdxl:8': { 1: 0.6, 2: 0.4 },
    },
    'lora-catalog-loss-trends-best-per-week': { [W02]: { best: 0.1, median: 0.15 }, [W03]: { best: 0.3, median: 0.35 } },
    'lora-catalog-ranks-summary': {
      'image/flux': { 16: { runs: 2, loss_mean: 0.3, loss_min: 0.3, loss_p50: 0.3, success_rate: 0.5, epochs_to_best: 3 } },
      'image/sdxl': {
        8: { runs: 3, loss_mean: 0.25, loss_min: 0.1, loss_p50: 0.2, success_rate: 1, epochs_to_best: 2 },
        32: { runs: 1, loss_mean: 0.9, loss_min: 0.9, loss_p50: 0.9, success_rate: 0, epochs_to_best: null },
      },
    },
    'lora-catalog-ranks-mean-loss': { 'image/flux': { 16: 0.3 }, 'image/sdxl': { 8: 0.25, 32: 0.9 } },
    'lora-catalog-ranks-lr-heatmap': [
      ['3e-5..1e-4', 'image/sdxl', 8, 0.4, 1],
      ['1e-4..3e-4', 'image/flux', 16, 0.3, 1],
      ['1e-4..3e-4', 'image/sdxl', 8, 0.15, 2],
      ['3e-4..1e-3', 'image/sdxl', 32, 0.9, 1],
    ],
    'lora-catalog-ranks-base-model': { flux: { 16: [2, 0.3] }, sdxl: { 8: [3, 0.25], 32: [1, 0.9] } },
    'lora-catalog-pipeline-errors-total': 3,
    'lora-catalog-pipeline-syncs-by-status': { failed: { '2025-01-06': 1 }, ok: { '2025-01-06': 1, '2025-01-07': 1 } },
    'lora-catalog-pipeline-duration': { '2025-01-06': { mean_ms: 2000, max_ms: 3000 }, '2025-01-07': { mean_ms: 2000, max_ms: 2000 } },
    'lora-catalog-pipeline-counts': { '2025-01-06': { new: 5, changed: 1, vanished: 0 }, '2025-01-07': { new: 1, changed: 2, vanished: 3 } },
    'lora-catalog-pipeline-errors-per-day': { '2025-01-06': 2, '2025-01-07': 1 },
  };

  it('shows the numbers each panel would display (no time range)', async () => {
    const all = await responses();
    const get = (id: string): estypes.SearchResponse => {
      const response = all.get(id);
      if (response === undefined) {
        throw new Error(`no response for ${id}`);
      }
      return response;
    };

    const shown: Record<string, unknown> = {
      'lora-catalog-overview-runs-total': total(get('lora-catalog-overview-runs-total')),
      'lora-catalog-overview-runs-failed': total(get('lora-catalog-overview-runs-failed')),
      'lora-catalog-overview-runs-by-status': nested(get('lora-catalog-overview-runs-by-status'), 'split', 'week', count),
      'lora-catalog-overview-runs-by-format': nested(get('lora-catalog-overview-runs-by-format'), 'split', 'week', count),
      'lora-catalog-overview-runs-by-base-model': nested(get('lora-catalog-overview-runs-by-base-model'), 'split', 'week', count),
      'lora-catalog-overview-weekly-outcomes': flat(get('lora-catalog-overview-weekly-outcomes'), 'week', (b) => ({
        completed: metric(b, 'completed'),
        failed: metric(b, 'failed'),
      })),
      'lora-catalog-loss-trends-final-by-rank': nested(get('lora-catalog-loss-trends-final-by-rank'), 'rank', 'week', value('loss')),
      'lora-catalog-loss-trends-epoch-by-rank': nested(get('lora-catalog-loss-trends-epoch-by-rank'), 'family', 'epoch', value('loss')),
      'lora-catalog-loss-trends-epoch-by-family-rank': nested(get('lora-catalog-loss-trends-epoch-by-family-rank'), 'curve', 'epoch', value('loss')),
      'lora-catalog-loss-trends-best-per-week': flat(get('lora-catalog-loss-trends-best-per-week'), 'week', (b) => ({
        best: metric(b, 'best'),
        median: median(b, 'median'),
      })),
      'lora-catalog-ranks-summary': nested(get('lora-catalog-ranks-summary'), 'family', 'rank', (b) => ({
        runs: metric(b, 'runs'),
        loss_mean: metric(b, 'loss_mean'),
        loss_min: metric(b, 'loss_min'),
        loss_p50: metric(b, 'loss_p50'),
        success_rate: metric(b, 'success_rate'),
        epochs_to_best: metric(b, 'epochs_to_best'),
      })),
      'lora-catalog-ranks-mean-loss': nested(get('lora-catalog-ranks-mean-loss'), 'family', 'rank', value('loss_mean')),
      'lora-catalog-ranks-lr-heatmap': buckets(get('lora-catalog-ranks-lr-heatmap').aggregations, 'by_band').flatMap((band) =>
        buckets(band, 'by_group').flatMap((group) =>
          buckets(group, 'by_rank').map((cell) => [band.key, group.key, cell.key, metric(cell, 'loss_mean'), metric(cell, 'runs')]),
        ),
      ),
      'lora-catalog-ranks-base-model': nested(get('lora-catalog-ranks-base-model'), 'family', 'rank', (b) => [metric(b, 'runs'), metric(b, 'loss_mean')]),
      'lora-catalog-pipeline-errors-total': metric(get('lora-catalog-pipeline-errors-total').aggregations as Doc, 'errors'),
      'lora-catalog-pipeline-syncs-by-status': nested(get('lora-catalog-pipeline-syncs-by-status'), 'status', 'day', count),
      'lora-catalog-pipeline-duration': flat(get('lora-catalog-pipeline-duration'), 'day', (b) => ({
        mean_ms: metric(b, 'mean_ms'),
        max_ms: metric(b, 'max_ms'),
      })),
      'lora-catalog-pipeline-counts': flat(get('lora-catalog-pipeline-counts'), 'day', (b) => ({
        new: metric(b, 'new'),
        changed: metric(b, 'changed'),
        vanished: metric(b, 'vanished'),
      })),
      'lora-catalog-pipeline-errors-per-day': flat(get('lora-catalog-pipeline-errors-per-day'), 'day', value('errors')),
    };

    expect(roundAll(shown)).toEqual(EXPECTED);
  });

  it('applies the dashboard time range to runs, syncs and weekly rollups, not to the other rollups', async () => {
    const all = await responses({ timeRange: { from: '2025-01-13T00:00:00.000Z', to: '2025-01-19T23:59:59.999Z' } });
    const w02 = await responses({ timeRange: { from: '2025-01-06T00:00:00.000Z', to: '2025-01-12T23:59:59.999Z' } });
    const weekly = (r: Map<string, estypes.SearchResponse>): unknown =>
      flat(r.get('lora-catalog-overview-weekly-outcomes') as estypes.SearchResponse, 'week', (b) => ({
        completed: metric(b, 'completed'),
        failed: metric(b, 'failed'),
      }));

    expect(total(all.get('lora-catalog-overview-runs-total') as estypes.SearchResponse)).toBe(3);
    expect(total(all.get('lora-catalog-overview-runs-failed') as estypes.SearchResponse)).toBe(1);
    expect(metric((all.get('lora-catalog-pipeline-errors-total') as estypes.SearchResponse).aggregations as Doc, 'errors')).toBe(0);
    expect(nested(all.get('lora-catalog-ranks-mean-loss') as estypes.SearchResponse, 'family', 'rank', value('loss_mean'))).toEqual({
      'image/flux': { 16: 0.3 },
      'image/sdxl': { 8: 0.25, 32: 0.9 },
    });
    expect(weekly(all)).toEqual({});
    expect(weekly(w02)).toEqual({ [W02]: { completed: 2, failed: 1 } });
  });
});

describe('kibana dashboards: top-N breakdowns with more values than N (the "Other" bucket)', () => {
  let client: Client;
  let indices: IndexNames;
  let all: Map<string, estypes.SearchResponse>;

  beforeAll(async () => {
    client = esClient();
    indices = await createIndices(client, 'many', { runs: MANY_RUNS, rollups: MANY_ROLLUPS, syncRuns: SYNCS });
    all = await panelResponses(client, { indices });
  });

  afterAll(async () => {
    await deleteIndexQuietly(client, Object.values(indices));
  });

  const get = (id: string): estypes.SearchResponse => all.get(id) as estypes.SearchResponse;

  it('every value a terms bucket left out is in an "Other" bucket of exactly that many documents', () => {
    const withOther: string[] = [];
    for (const [panelId, response] of all) {
      const misses: string[] = [];
      let others = 0;
      walkTermsAggs(response.aggregations, (name, agg) => {
        const other = agg.buckets.find((b) => b.key === OTHER_KEY);
        others += other === undefined ? 0 : 1;
        if ((agg.sum_other_doc_count ?? 0) !== (other?.doc_count ?? 0)) {
          misses.push(`${name}: ${agg.sum_other_doc_count ?? 0} left out, Other holds ${other?.doc_count ?? 'nothing'}`);
        }
      });
      expect(misses, panelId).toEqual([]);
      if (others > 0) {
        withOther.push(panelId);
      }
    }

    expect(withOther.sort()).toEqual(['lora-catalog-loss-trends-final-by-rank', 'lora-catalog-overview-runs-by-base-model', 'lora-catalog-ranks-base-model']);
  });

  it('ranks base model families by runs, not alphabetically, and counts the rest per week as Other', () => {
    // zeta has 3 runs (1 in W02, 2 in W03); ties of one run go by key: a01…a09. Other: a10, a11 (W02), a12…a21 (W03).
    const shown = nested(get('lora-catalog-overview-runs-by-base-model'), 'split', 'week', count);

    const ones = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`a0${i + 1}`, { [W02]: 1 }]));
    expect(shown).toEqual({ zeta: { [W02]: 1, [W03]: 2 }, ...ones, [OTHER_KEY]: { [W02]: 2, [W03]: 10 } });
  });

  it('keeps ranks 1–20 in order and shows the mean loss of ranks 21–24 as Other (second request, exact)', () => {
    const shown = nested(get('lora-catalog-loss-trends-final-by-rank'), 'rank', 'week', value('loss'));

    expect(Object.keys(shown)).toEqual([...Array.from({ length: 20 }, (_, i) => String(i + 1)), OTHER_KEY]);
    expect(roundAll(shown['20'])).toEqual({ [W03]: 0.2 });
    // Runs 21–24, all in W03: (0.21 + 0.22 + 0.23 + 0.24) / 4.
    expect(roundAll(shown[OTHER_KEY])).toEqual({ [W03]: 0.225 });
  });

  it('shows Other rows on both levels of base model × rank, with their runs and mean loss', () => {
    const shown = nested(get('lora-catalog-ranks-base-model'), 'family', 'rank', (b) => [metric(b, 'runs'), metric(b, 'loss_mean')]);

    // Families by runs: zz-big (56), then f01…f19; Other: f20–f22, one rank-8 run each.
    expect(Object.keys(shown)).toEqual(['zz-big', ...Array.from({ length: 19 }, (_, i) => `f${String(i + 1).padStart(2, '0')}`), OTHER_KEY]);
    expect(roundAll(shown[OTHER_KEY])).toEqual({ 8: [3, 0.5] });
    // Ranks of zz-big by runs: 52 (5 runs) first, then 1…49; Other: ranks 50 and 51, mean (0.5 + 0.51) / 2.
    const big = roundAll(shown['zz-big']) as Record<string, unknown>;
    expect(Object.keys(big)).toEqual([...Array.from({ length: 49 }, (_, i) => String(i + 1)), '52', OTHER_KEY]);
    expect([big['52'], big['1'], big[OTHER_KEY]]).toEqual([
      [5, 0.52],
      [1, 0.01],
      [2, 0.505],
    ]);
  });
});

// --- internal ---

/** Fresh indices with our mappings, filled with the given documents. */
async function createIndices(client: Client, prefix: string, docs: { runs: Doc[]; rollups: Doc[]; syncRuns: Doc[] }): Promise<IndexNames> {
  const indices = { runs: uniqueName(`${prefix}-runs`), rollups: uniqueName(`${prefix}-rollups`), syncRuns: uniqueName(`${prefix}-syncs`) };
  await client.indices.create({ index: indices.runs, settings: INDEX_SETTINGS, mappings: runsMappings({ cjk: false, ik: false }) });
  await client.indices.create({ index: indices.rollups, settings: INDEX_SETTINGS, mappings: rollupsMappings() });
  await client.indices.create({ index: indices.syncRuns, settings: INDEX_SETTINGS, mappings: syncRunsMappings() });
  const operations = [
    ...docs.runs.flatMap((doc) => [{ index: { _index: indices.runs, _id: String(doc.run_id) } }, doc]),
    // Curve docs share their bucket key across epochs: the epoch makes their id, as in the rollups.
    ...docs.rollups.flatMap((doc) => [{ index: { _index: indices.rollups, _id: `${String(doc.kind)}:${String(doc.key)}:${String(doc.epoch ?? '')}` } }, doc]),
    ...docs.syncRuns.flatMap((doc) => [{ index: { _index: indices.syncRuns, _id: String(doc.sync_id) } }, doc]),
  ];
  const result = await client.bulk({ operations, refresh: true });
  expect(result.errors, JSON.stringify(result.items.filter((i) => i.index?.error))).toBe(false);
  return indices;
}

/** What each panel shows: its request plus, for "Other" buckets, Kibana's follow-up requests merged in. */
async function panelResponses(client: Client, opts: QueryOptions): Promise<Map<string, estypes.SearchResponse>> {
  const search = (query: PanelQuery): Promise<unknown> => client.search({ index: query.index, ...query.body } as estypes.SearchRequest);
  const all = new Map<string, estypes.SearchResponse>();
  for (const query of panelQueries(opts)) {
    all.set(query.panelId, (await runPanelQuery(query, search)) as unknown as estypes.SearchResponse);
  }
  return all;
}

/** Calls `visit` for every terms aggregation (anything with `buckets` and `sum_other_doc_count`), at any depth. */
function walkTermsAggs(node: unknown, visit: (name: string, agg: { buckets: Bucket[]; sum_other_doc_count?: number }) => void): void {
  if (typeof node !== 'object' || node === null) {
    return;
  }
  for (const [name, child] of Object.entries(node)) {
    const agg = child as { buckets?: unknown; sum_other_doc_count?: number };
    if (typeof agg === 'object' && agg !== null && Array.isArray(agg.buckets)) {
      if (agg.sum_other_doc_count !== undefined) {
        visit(name, agg as { buckets: Bucket[]; sum_other_doc_count?: number });
      }
      for (const bucket of agg.buckets as unknown[]) {
        walkTermsAggs(bucket, visit);
      }
    }
  }
}

const NUMERIC = ['long', 'integer', 'double', 'float'];

/** `field -> type` of the aggregatable fields of an index, from `_field_caps`. */
async function aggregatableFields(client: Client, index: string): Promise<Record<string, string>> {
  const response = await client.fieldCaps({ index, fields: '*' });
  return Object.fromEntries(
    Object.entries(response.fields).flatMap(([field, types]) =>
      Object.entries(types)
        .filter(([, c]) => c.aggregatable)
        .map(([type]) => [field, type]),
    ),
  );
}

function fitsMapping(column: Doc, type: string | undefined): boolean {
  switch (column.operationType) {
    case 'count':
      return column.sourceField === '___records___';
    case 'date_histogram':
      return type === 'date';
    case 'terms':
      return column.dataType === 'number' ? NUMERIC.includes(type ?? '') : type === 'keyword';
    default:
      return NUMERIC.includes(type ?? '');
  }
}

function buckets(parent: unknown, name: string): Bucket[] {
  const agg = (parent as Record<string, { buckets?: Bucket[] }> | undefined)?.[name];
  return agg?.buckets ?? [];
}

function bucketKey(b: Bucket): string {
  return b.key_as_string?.slice(0, 10) ?? String(b.key);
}

/** `{outer: {inner: cell}}`, leaving out empty date buckets (Lens draws them as gaps). */
function nested(response: estypes.SearchResponse, outer: string, inner: string, cell: (b: Bucket) => unknown): Record<string, Record<string, unknown>> {
  return Object.fromEntries(buckets(response.aggregations, outer).map((o) => [bucketKey(o), flatBuckets(buckets(o, inner), cell)]));
}

function flat(response: estypes.SearchResponse, name: string, cell: (b: Bucket) => unknown): Record<string, unknown> {
  return flatBuckets(buckets(response.aggregations, name), cell);
}

function flatBuckets(list: Bucket[], cell: (b: Bucket) => unknown): Record<string, unknown> {
  return Object.fromEntries(list.filter((b) => b.doc_count > 0).map((b) => [bucketKey(b), cell(b)]));
}

function count(b: Bucket): number {
  return b.doc_count;
}

function value(name: string): (b: Bucket) => unknown {
  return (b) => metric(b, name);
}

function metric(parent: Doc, name: string): number | null {
  return (parent[name] as { value: number | null } | undefined)?.value ?? null;
}

function median(parent: Doc, name: string): number | null {
  return (parent[name] as { values: Record<string, number | null> } | undefined)?.values['50.0'] ?? null;
}

function total(response: estypes.SearchResponse): number {
  const hits = response.hits.total;
  return typeof hits === 'number' ? hits : (hits?.value ?? -1);
}

/** Rounds floats to 6 places so sums like 0.1 + 0.2 compare exactly. */
function roundAll(value: unknown): unknown {
  if (typeof value === 'number') {
    return Math.round(value * 1e6) / 1e6;
  }
  if (Array.isArray(value)) {
    return value.map(roundAll);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundAll(v)]));
  }
  return value;
}
