import { describe, expect, it } from 'vitest';
import { BucketAccumulator, type RollupRun } from '../../../src/rollups/compute.ts';

function run(id: string, status: string): RollupRun {
  return {
    run_id: id,
    status,
    format: 'kohya',
    lora_rank: 8,
    base_model_family: 'sd15',
    learning_rate: 1e-4,
    loss_final: null,
    best_epoch: null,
    config_hash: null,
    created_at: null,
    loss_per_epoch: [],
  };
}

describe('rollups/compute success_rate', () => {
  it('counts an interrupted run as not successful, and a running one not at all', () => {
    const bucket = new BucketAccumulator('rank:8');
    for (const [id, status] of [
      ['a', 'completed'],
      ['b', 'interrupted'],
      ['c', 'failed'],
      ['d', 'completed'],
      ['e', 'running'],
    ]) {
      bucket.add(run(id as string, status as string));
    }

    const doc = bucket.toDoc(new Date('2026-03-01T00:00:00Z'));

    expect(doc).toMatchObject({ count: 5, completed: 2, failed: 1, success_rate: 0.5 });
  });
});
