import { rollupQuery } from '../common.ts';
import type { VegaPanel } from '../vega.ts';

/**
 * Learning-rate band × LoRA rank, coloured by mean final loss (rollups kind lr_rank). Vega, not Lens: the
 * bands must sort by their numeric lower bound (`lr_band_low`), which a Lens heatmap axis cannot do
 * without an extra column.
 */
export function lrRankHeatmap(): VegaPanel {
  return {
    kind: 'vega',
    id: 'lora-catalog-ranks-lr-heatmap',
    title: 'Learning rate × LoRA rank: mean final loss',
    description:
      'One cell per lr_band and lora_rank (rollups kind lr_rank); colour = mean final loss, tooltip = runs. Bands and ranks in ascending order, up to 50 of each: 50 half-decade bands span every practical learning rate; Vega has no "Other" bucket, so ranks beyond the 50th are not drawn.',
    dataView: 'rollups',
    filter: rollupQuery('lr_rank'),
    body: {
      size: 0,
      aggs: {
        by_band: {
          terms: { field: 'lr_band', size: 50, order: { band_low: 'asc' } },
          aggs: {
            band_low: { min: { field: 'lr_band_low' } },
            by_rank: {
              terms: { field: 'lora_rank', size: 50, order: { _key: 'asc' } },
              aggs: { loss_mean: { avg: { field: 'loss_mean' } }, runs: { sum: { field: 'count' } } },
            },
          },
        },
      },
    },
    property: 'aggregations.by_band.buckets',
    spec: {
      transform: [
        { flatten: ['by_rank.buckets'], as: ['cell'] },
        { calculate: 'datum.key', as: 'lr_band' },
        { calculate: 'datum.band_low.value', as: 'lr_band_low' },
        { calculate: 'datum.cell.key', as: 'lora_rank' },
        { calculate: 'datum.cell.loss_mean.value', as: 'loss_mean' },
        { calculate: 'datum.cell.runs.value', as: 'runs' },
      ],
      mark: { type: 'rect', tooltip: true },
      encoding: {
        x: { field: 'lr_band', type: 'ordinal', sort: { field: 'lr_band_low', op: 'min', order: 'ascending' }, title: 'Learning-rate band' },
        y: { field: 'lora_rank', type: 'ordinal', sort: 'ascending', title: 'LoRA rank' },
        color: { field: 'loss_mean', type: 'quantitative', title: 'Mean final loss', scale: { scheme: 'viridis', reverse: true } },
        tooltip: [
          { field: 'lr_band', type: 'nominal', title: 'LR band' },
          { field: 'lora_rank', type: 'ordinal', title: 'LoRA rank' },
          { field: 'loss_mean', type: 'quantitative', title: 'Mean final loss', format: '.4f' },
          { field: 'runs', type: 'quantitative', title: 'Runs' },
        ],
      },
    },
  };
}
