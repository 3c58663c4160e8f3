import { describe, expect, it } from 'vitest';
import { compareKeys, renderComparison } from '../../../src/cli/compare.ts';
import { makeRecord } from '../../fixtures/search/runs.ts';

const epochs = (...means: number[]) => means.map((mean, i) => ({ epoch: i + 1, mean, last: mean, min: mean, steps: 10 }));

const A = makeRecord('r1', {
  base_model: 'stabilityai/stable-diffusion-xl-base-1.0',
  base_model_family: 'sdxl',
  lora_rank: 8,
  learning_rate: 1e-4,
  optimizer: 'AdamW8bit',
  loss_per_epoch: epochs(0.12, 0.1, 0.09),
  config: { file: 'a.toml', syntax: 'toml', text: null, values: { network_dim: 8, learning_rate: 1e-4, seed: 42, noise_offset: 0.05 } },
});
const B = makeRecord('r2', {
  base_model: 'stabilityai/stable-diffusion-xl-base-1.0',
  base_model_family: 'sdxl',
  lora_rank: 16,
  learning_rate: 1e-4,
  optimizer: 'AdamW8bit',
  loss_per_epoch: epochs(0.13, 0.11, 0.08, 0.07),
  config: { file: 'b.toml', syntax: 'toml', text: null, values: { network_dim: 16, learning_rate: 1e-4, seed: 42 } },
});

describe('cli/compare', () => {
  it('keeps only the keys whose values differ, summary first, then config keys in order', () => {
    expect(compareKeys([A, B], false)).toEqual([
      { key: 'rank', values: ['8', '16'] },
      { key: 'config.network_dim', values: ['8', '16'] },
      { key: 'config.noise_offset', values: ['0.05', ''] },
    ]);
  });

  it('keeps every key with --all', () => {
    const keys = compareKeys([A, B], true).map((k) => k.key);

    expect(keys).toContain('config.seed');
    expect(keys).toContain('optimizer');
    expect(keys.indexOf('state')).toBe(0);
  });

  it('prints a table headed by each run, then both loss curves on one epoch axis', () => {
    const lines = renderComparison([A, B], { all: false, columns: 100, color: false }).split('\n');

    expect(lines[0]).toMatch(/^KEY\s+01a0c0de r1\s+02a0c0de r2$/);
    expect(lines[1]).toMatch(/^rank\s+8\s+16$/);
    expect(lines).toContain('mean loss per epoch');
    expect(lines.some((l) => /epoch 1\s+epoch 4$/.test(l))).toBe(true);
    expect(lines.slice(-2)).toEqual([`${' '.repeat(11)}(1) 01a0c0de r1`, `${' '.repeat(11)}(2) 02a0c0de r2`]);
  });

  it('says so when nothing differs', () => {
    expect(renderComparison([A, A], { all: false, columns: 100, color: false })).toMatch(/^no differences/);
  });
});
