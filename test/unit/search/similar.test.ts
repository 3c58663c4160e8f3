import { describe, expect, it } from 'vitest';
import { similarityReasons } from '../../../src/search/similar.ts';
import { makeRecord } from '../../fixtures/search/runs.ts';

describe('search/similar', () => {
  it('says what two runs share: config, rank, family, lr band, optimizer, data and prompt terms', () => {
    const run = makeRecord('r1', {
      config_hash: 'h1',
      lora_rank: 8,
      base_model_family: 'sdxl',
      learning_rate: 1e-4,
      optimizer: 'bitsandbytes.optim.adamw.AdamW8bit',
      data_dir: '/data/10_city',
      prompt_example: 'neon city at night, rain',
      tags: ['cyberpunk'],
    });
    const other = makeRecord('r2', {
      config_hash: 'h1',
      lora_rank: 8,
      base_model_family: 'sdxl',
      learning_rate: 1.15e-4,
      optimizer: 'AdamW8bit',
      data_dir: '/data/10_city',
      prompt_example: 'a neon city',
      tag_summary: [{ tag: 'cyberpunk', count: 3 }],
    });

    expect(similarityReasons(run, other)).toEqual([
      'same config',
      'same rank 8',
      'same family sdxl',
      'lr within 15%',
      'same optimizer adamw8bit',
      'same data dir',
      'shared prompt terms: neon, city, cyberpunk',
    ]);
  });

  it('says nothing it cannot back: different rank, lr outside ±50 %, missing values', () => {
    const run = makeRecord('r1', { lora_rank: 8, learning_rate: 1e-4, base_model_family: null });
    const other = makeRecord('r2', { lora_rank: 16, learning_rate: 3e-4, base_model_family: null });

    expect(similarityReasons(run, other)).toEqual([]);
  });
});
