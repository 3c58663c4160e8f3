import { describe, expect, it } from 'vitest';
import { heatMap, renderRollups, type RollupRow } from '../../../src/cli/rollups-show.ts';

function lr(rank: number, band: string, low: number, loss: number | null, count = 2): RollupRow {
  return {
    kind: 'lr_rank',
    lora_rank: rank,
    family_group: 'image/sdxl',
    lr_band: band,
    lr_band_low: low,
    count,
    completed: count,
    failed: 0,
    loss_mean: loss,
    loss_min: loss,
    success_rate: 1,
  };
}

const CELLS = [lr(16, '1e-4..3e-4', 1e-4, 0.031), lr(16, '3e-4..1e-3', 3e-4, 0.027), lr(8, '1e-4..3e-4', 1e-4, 0.04), lr(8, '3e-5..1e-4', 3e-5, 0.05)];

describe('src/cli/rollups-show', () => {
  it('draws bands in ascending learning rate as rows and ranks as columns, marking the best band of each rank', () => {
    const lines = heatMap(CELLS, false).split('\n');

    expect(lines[0]).toMatch(/^lr \\ rank +8 +16$/);
    expect(lines.slice(1, 4).map((l) => l.split(/\s+/)[0])).toEqual(['3e-5..1e-4', '1e-4..3e-4', '3e-4..1e-3']);
    expect(lines[2]).toMatch(/^1e-4\.\.3e-4 +0\.04 \(2\)\* +0\.031 \(2\) $/);
    expect(lines[3]).toMatch(/^3e-4\.\.1e-3 +· +0\.027 \(2\)\*$/);
  });

  it('colours cells from green (lowest loss of the family) to red (highest) on a terminal only', () => {
    const coloured = heatMap(CELLS, true);

    expect(coloured).toContain('\u001b[48;5;46m\u001b[30m      0.027 (2)*');
    expect(coloured).toContain('\u001b[48;5;196m\u001b[30m       0.05 (2) ');
    expect(heatMap(CELLS, false)).not.toContain('\u001b[');
  });

  it('never shows a loss for a bucket that spans families, and gives one heat map per family group', () => {
    const rows: RollupRow[] = [
      {
        kind: 'rank',
        lora_rank: 16,
        count: 3,
        completed: 3,
        failed: 0,
        cross_family: true,
        families: ['image/sdxl', 'text/qwen'],
        loss_mean: null,
        success_rate: 1,
      },
      ...CELLS,
      { ...lr(16, '1e-4..3e-4', 1e-4, 1.05), family_group: 'text/qwen' },
    ];

    const text = renderRollups(rows, { colour: false, columns: null });

    expect(text).toContain('Learning rate × LoRA rank, image/sdxl');
    expect(text).toContain('Learning rate × LoRA rank, text/qwen');
    expect(text).toMatch(
      /By LoRA rank \(all families: counts only[^\n]*\)\nRANK +RUNS +COMPLETED +FAILED +SUCCESS +FAMILIES\n +16 +3 +3 +0 +100% +image\/sdxl, text\/qwen/,
    );
  });
});
