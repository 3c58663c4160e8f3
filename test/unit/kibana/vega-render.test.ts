import { readFile } from 'node:fs/promises';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import { GENERATED_FILE } from '../../../kibana/emit.ts';
import type { Raw } from './checklist.ts';

/** What `aggregations.by_band.buckets` of the heat map request looks like (shape of an ES terms response). */
const cell = (key: number, loss: number, runs: number) => ({ key, doc_count: 1, loss_mean: { value: loss }, runs: { value: runs } });
const HEATMAP_ROWS = [
  {
    key: '1e-4..3e-4',
    doc_count: 3,
    band_low: { value: 1e-4 },
    by_group: {
      buckets: [
        { key: 'image/sdxl', doc_count: 2, by_rank: { buckets: [cell(8, 0.15, 2), cell(16, 0.3, 1)] } },
        { key: 'text/qwen', doc_count: 1, by_rank: { buckets: [cell(8, 1.05, 1)] } },
      ],
    },
  },
  {
    key: '3e-5..1e-4',
    doc_count: 1,
    band_low: { value: 3e-5 },
    by_group: { buckets: [{ key: 'image/sdxl', doc_count: 1, by_rank: { buckets: [cell(8, 0.4, 1)] } }] },
  },
];

async function vegaSpecs(): Promise<Map<string, Raw>> {
  const lines = (await readFile(GENERATED_FILE, 'utf8'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Raw);
  const specs = new Map<string, Raw>();
  for (const o of lines.filter((l) => l.type === 'visualization')) {
    const visState = JSON.parse(String((o.attributes as Raw).visState)) as { params: { spec: string } };
    specs.set(String(o.id), JSON.parse(visState.params.spec) as Raw);
  }
  return specs;
}

/** Compiles with vega-lite (KIBANA.md §5 rule 25), runs it headless on the given rows, returns the drawn rect datums. */
async function render(spec: Raw, rows: unknown[]): Promise<{ cells: Raw[]; view: View }> {
  const offline = { ...spec, data: { values: rows } } as unknown as TopLevelSpec;
  const view = new View(parse(compile(offline).spec), { renderer: 'none' });
  await view.runAsync();
  const cells: Raw[] = [];
  const walk = (node: { marktype?: string; items?: Array<{ datum?: Raw }> } | undefined): void => {
    for (const item of node?.items ?? []) {
      if (node?.marktype === 'rect' && item.datum?.lr_band !== undefined) {
        cells.push(item.datum);
      }
      walk(item as never);
    }
  };
  walk((view.scenegraph() as unknown as { root: never }).root);
  return { cells, view };
}

describe('kibana Vega panels compile and render offline', () => {
  it('every Vega spec compiles with vega-lite', async () => {
    for (const [id, spec] of await vegaSpecs()) {
      expect(() => compile({ ...spec, data: { values: [] } } as unknown as TopLevelSpec), id).not.toThrow();
    }
  });

  it('the lr × rank heat map draws one cell per band, family group and rank, bands in numeric order', async () => {
    const spec = (await vegaSpecs()).get('lora-catalog-ranks-lr-heatmap') as Raw;

    const { cells, view } = await render(spec, HEATMAP_ROWS);

    expect(cells.map((c) => [c.lr_band, c.row, c.loss_mean, c.runs])).toEqual([
      ['1e-4..3e-4', 'image/sdxl · r8', 0.15, 2],
      ['1e-4..3e-4', 'image/sdxl · r16', 0.3, 1],
      ['1e-4..3e-4', 'text/qwen · r8', 1.05, 1],
      ['3e-5..1e-4', 'image/sdxl · r8', 0.4, 1],
    ]);
    expect(view.scale('x').domain()).toEqual(['3e-5..1e-4', '1e-4..3e-4']);
  });
});
