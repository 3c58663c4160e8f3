import { describe, expect, it } from 'vitest';
import { BucketAccumulator, runMemberDoc, watermarkDoc, type RollupRun } from '../../../src/rollups/compute.ts';
import { bucketKeys, familyGroup, isoWeek, isoWeekStart, lrBand, taskOf } from '../../../src/rollups/keys.ts';

const NOW = new Date('2026-01-05T10:00:00.000Z');

function run(overrides: Partial<RollupRun> = {}): RollupRun {
  return {
    run_id: 'r1',
    status: 'completed',
    format: 'kohya',
    lora_rank: 8,
    base_model_family: 'sd15',
    learning_rate: 1e-4,
    loss_final: 0.04,
    best_epoch: 5,
    config_hash: 'abc',
    created_at: '2025-03-02T10:00:00.000Z',
    loss_per_epoch: [],
    ...overrides,
  };
}

function bucket(key: string, runs: RollupRun[]): Record<string, unknown> {
  const acc = new BucketAccumulator(key);
  for (const r of runs) {
    acc.add(r);
  }
  return acc.toDoc(NOW);
}

describe('rollups/keys', () => {
  it.each([
    ['kohya', 'sdxl', 'image'],
    ['kohya', null, 'image'],
    ['lora-scripts-yaml', null, 'image'],
    ['hf-peft', 'sd15', 'image'],
    ['hf-peft', 'qwen', 'text'],
    ['hf-peft', 'whisper', 'audio'],
    ['llama-factory', null, 'text'],
    ['hf-peft', null, 'unknown'],
  ] as const)('taskOf(%s, %s) is %s', (format, family, task) => {
    expect(taskOf(format, family)).toBe(task);
  });

  it('splits every loss-bearing bucket by task and family', () => {
    const keys = bucketKeys({
      run_id: 'r',
      lora_rank: 16,
      base_model_family: 'qwen',
      learning_rate: 2e-4,
      started_at: null,
      created_at: '2025-03-02T10:00:00Z',
      format: 'hf-peft',
      config_hash: 'h1',
      loss_per_epoch: [],
    });

    expect(keys).toEqual(['rank:16', 'base_rank:text/qwen|16', 'lr_rank:text/qwen|1e-4..3e-4|16', 'week:2025-W09|hf-peft', 'config:h1']);
  });

  it('names unknown families and ranks instead of dropping them', () => {
    expect(
      bucketKeys({
        run_id: 'r',
        lora_rank: null,
        base_model_family: null,
        learning_rate: null,
        started_at: null,
        created_at: null,
        format: 'hf-peft',
        config_hash: null,
        loss_per_epoch: [{ mean: 0.1 }],
      }),
    ).toEqual(['rank:none', 'base_rank:unknown/unknown|none']);
    expect(familyGroup('kohya', null)).toBe('image/unknown');
  });

  it.each([
    [1e-4, '1e-4..3e-4', 1e-4],
    [2.9e-4, '1e-4..3e-4', 1e-4],
    [3e-4, '3e-4..1e-3', 3e-4],
    [0.001, '1e-3..3e-3', 1e-3],
  ])('lrBand(%s) is %s', (lr, label, low) => {
    expect(lrBand(lr)).toEqual({ label, low });
  });

  it('ISO weeks across a year boundary', () => {
    expect(isoWeek(new Date('2025-01-01T00:00:00Z'))).toBe('2025-W01');
    expect(isoWeek(new Date('2024-12-30T00:00:00Z'))).toBe('2025-W01');
    expect(isoWeek(new Date('2021-01-03T00:00:00Z'))).toBe('2020-W53');
    expect(isoWeekStart('2025-W09')).toBe('2025-02-24T00:00:00.000Z');
  });
});

describe('rollups/compute', () => {
  it('a family bucket carries exact loss statistics and the injected clock', () => {
    const runs = [
      run({ run_id: 'a', loss_final: 0.03, best_epoch: 4 }),
      run({ run_id: 'b', loss_final: 0.05, best_epoch: 6 }),
      run({ run_id: 'c', status: 'failed', loss_final: null, best_epoch: null }),
    ];

    const doc = bucket('base_rank:image/sd15|8', runs);

    expect(doc).toEqual({
      kind: 'base_rank',
      key: 'base_rank:image/sd15|8',
      computed_at: '2026-01-05T10:00:00.000Z',
      count: 3,
      completed: 2,
      failed: 1,
      families: ['image/sd15'],
      cross_family: false,
      loss_mean: 0.04,
      loss_min: 0.03,
      loss_max: 0.05,
      loss_p50: 0.04,
      epochs_to_best_mean: 5,
      success_rate: 0.666666667,
      task: 'image',
      base_model_family: 'sd15',
      family_group: 'image/sd15',
      lora_rank: 8,
    });
  });

  it('never averages losses across families: SD and Qwen in one rank bucket give counts and the families, no mean', () => {
    const runs = [run({ run_id: 'sd', loss_final: 0.035 }), run({ run_id: 'qw', format: 'hf-peft', base_model_family: 'qwen', loss_final: 1.05 })];

    const doc = bucket('rank:8', runs);

    expect(doc).toMatchObject({
      count: 2,
      completed: 2,
      cross_family: true,
      families: ['image/sd15', 'text/qwen'],
      loss_mean: null,
      loss_min: null,
      loss_max: null,
      loss_p50: null,
      epochs_to_best_mean: null,
      success_rate: 1,
      lora_rank: 8,
    });
  });

  it('lr × rank buckets name their family, band and rank', () => {
    const doc = bucket('lr_rank:text/qwen|1e-4..3e-4|16', [run({ format: 'hf-peft', base_model_family: 'qwen', lora_rank: 16, loss_final: 1.05 })]);

    expect(doc).toMatchObject({
      kind: 'lr_rank',
      base_model_family: 'qwen',
      task: 'text',
      lr_band: '1e-4..3e-4',
      lr_band_low: 0.0001,
      lora_rank: 16,
      loss_mean: 1.05,
    });
  });

  it('config buckets keep the sample standard deviation; week buckets count started runs', () => {
    const config = bucket('config:abc', [run({ loss_final: 0.02 }), run({ loss_final: 0.04 })]);
    const week = bucket('week:2025-W09|kohya', [run(), run({ status: 'failed', loss_final: null })]);

    expect(config).toMatchObject({ config_hash: 'abc', loss_std: 0.014142136, loss_mean: 0.03 });
    expect(week).toMatchObject({ week: '2025-W09', week_start: '2025-02-24T00:00:00.000Z', format: 'kohya', started: 2, completed: 1, failed: 1 });
  });

  it('is independent of the order runs arrive in (full and incremental recomputation agree)', () => {
    const runs = [0.1, 0.3, 0.2, 0.7, 0.05].map((loss, i) => run({ run_id: `r${i}`, loss_final: loss }));

    expect(bucket('rank:8', runs)).toEqual(bucket('rank:8', [...runs].reverse()));
  });

  it('an empty loss list gives nulls, not NaN', () => {
    expect(bucket('rank:8', [run({ loss_final: null, best_epoch: null, status: 'running' })])).toMatchObject({
      loss_mean: null,
      loss_p50: null,
      success_rate: null,
      epochs_to_best_mean: null,
    });
  });

  it('membership and watermark docs', () => {
    expect(runMemberDoc('r1', ['rank:8', 'config:abc'], NOW, 777)).toEqual({
      id: 'run:r1',
      doc: { kind: 'run_member', key: 'run:r1', computed_at: NOW.toISOString(), run_id: 'r1', rollup_keys: ['config:abc', 'rank:8'], rollup_stamp: 777 },
    });
    expect(watermarkDoc(1234, NOW)).toEqual({ kind: 'watermark', key: 'rollup_watermark', computed_at: NOW.toISOString(), rollup_stamp: 1234 });
  });
});
