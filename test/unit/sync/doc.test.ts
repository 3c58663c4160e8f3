import { describe, expect, it } from 'vitest';
import { toRunDoc } from '../../../src/sync/doc.ts';
import { makeRecord } from '../../fixtures/search/runs.ts';

describe('src/sync/doc', () => {
  it.each([
    ['training', ['rank:8', 'base_rank:image/qwen|8', 'lr_rank:image/qwen|1e-4..3e-4|8', 'week:2025-W23|kohya', 'config:h1']],
    ['evaluation', []],
  ] as const)('a %s run joins rollup buckets %j', (kind, keys) => {
    const record = makeRecord('r1', {
      run_kind: kind,
      lora_rank: 8,
      base_model_family: 'qwen',
      learning_rate: 1e-4,
      started_at: '2025-06-02T00:00:00Z',
      config_hash: 'h1',
    });

    const doc = toRunDoc(record, { now: new Date('2025-07-01T00:00:00Z'), firstSeenAt: null });

    expect(doc.rollup_keys).toEqual(keys);
  });
});
