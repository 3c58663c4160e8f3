import { rollupQuery } from '../common.ts';
import type { VegaPanel } from '../vega.ts';

/**
 * Learning-rate band × (family group, LoRA rank), coloured by mean final loss (rollups kind lr_rank). One
 * row per `family_group` and rank: the lr_rank buckets are per task and base-model family, and a cell
 * must never average Stable Diffusion losses with LLM losses. Vega, not Lens: the bands must sort by
 * their numeric lower bound (`lr_band_low`), which a Lens heatmap axis cannot do without an extra column.
 */
export function lrRankHeatmap(): VegaPanel {
  return {
    kind: 'vega',
    id: 'lora-catalog-ranks-lr-heatmap',
    title: 'Learning rate × LoRA rank per base-model family: mean final loss',
    description:
      'One cell per lr_band, family_group and lora_rank (rollups kind lr_rank); colour = mean final loss, tooltip = runs. Compare colours within one family only. Bands and ranks in ascending order, up to 50 of each: 50 half-decade bands span every practical learning rate; Vega has no "Other" bucket, so ranks beyond the 50th are not drawn.',
    dataView: 'rollups',
    filter: rollupQuery('lr_rank'),
    body: {
      size: 0,
      aggs: {
        by_band: {
          terms: { field: 'lr_band', size: 50, order: { band_low: 'asc' } },
          aggs: {
            band_low: { min: { field: 'lr_band_low' } },
            by_group: {
              terms: { field: 'family_group', size: 20, order: { _key: 'asc' } },
              aggs: {
                by_rank: {
                  terms: { field: 'lora_rank', size: 50, order: { _key: 'asc' } },
                  aggs: { loss_mean: { avg: { field: 'loss_mean' } }, runs: { sum: { field: 'count' } } },
                },
              },
            },
          },
        },
      },
    },
    property: 'aggregations.by_band.buckets',
    spec: {
      transform: [
        { flatten: ['by_group.buckets'], as: ['group'] },
        { calculate: 'datum.group.by_rank.buckets', as: 'cells' },
        { flatten: ['cells'], as: ['cell'] },
        { calculate: 'datum.key', as: 'lr_band' },
        { calculate: 'datum.band_low.value', as: 'lr_band_low' },
        { calculate: 'datum.group.key', as: 'family_group' },
        { calculate: 'datum.cell.key', as: 'lora_rank' },
        { calculate: "datum.group.key + ' · r' + datum.cell.key", as: 'row' },
        { calculate: 'datum.cell.loss_mean.value', as: 'loss_mean' },
        { calculate: 'datum.cell.runs.value', as: 'runs' },
      ],
      mark: { type: 'rect', tooltip: true },
      encoding: {
        x: { field: 'lr_band', type: 'ordinal', sort: { field: 'lr_band_low', op: 'min', order: 'ascending' }, title: 'Learning-rate band' },
        y: { field: 'row', type: 'ordinal', sort: 'ascending', title: 'Family group · LoRA rank' },
        color: { field: 'loss_mean', type: 'quantitative', title: 'Mean final loss', scale: { scheme: 'viridis', reverse: true } },
        tooltip: [
          { field: 'lr_band', type: 'nominal', title: 'LR band' },
          { field: 'family_group', type: 'nominal', title: 'Family group' },
          { field: 'lora_rank', type: 'ordinal', title: 'LoRA rank' },
          { field: 'loss_mean', type: 'quantitative', title: 'Mean final loss', format: '.4f' },
          { field: 'runs', type: 'quantitative', title: 'Runs' },
        ],
      },
    },
  };
}
