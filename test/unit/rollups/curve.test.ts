import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RollupRun } from '../../../src/rollups/compute.ts';
import { accumulatorFor, CurveAccumulator } from '../../../src/rollups/curve.ts';
import { ExactSum } from '../../../src/rollups/exact-sum.ts';
import { bucketKeys, type BucketFields } from '../../../src/rollups/keys.ts';

const NOW = new Date('2026-01-05T10:00:00.000Z');

function run(id: string, means: Array<number | null>, overrides: Partial<RollupRun> = {}): RollupRun {
  return {
    run_id: id,
    status: 'completed',
    format: 'kohya',
    lora_rank: 8,
    base_model_family: 'sdxl',
    learning_rate: 1e-4,
    loss_final: null,
    best_epoch: null,
    config_hash: null,
    created_at: null,
    // A null mean is what a NaN loss becomes in the stored JSON; the schema says number, the accumulator must not trust it.
    loss_per_epoch: means.map((mean, i) => ({ epoch: i + 1, mean: mean as number, last: null, min: null, steps: null })),
    ...overrides,
  };
}

function curve(key: string, runs: RollupRun[]): Array<{ id: string; doc: Record<string, unknown> }> {
  const acc = new CurveAccumulator(key);
  for (const r of runs) {
    acc.add(r);
  }
  return acc.docs(NOW);
}

function fields(overrides: Partial<BucketFields> = {}): BucketFields {
  return {
    run_id: 'r',
    lora_rank: 16,
    base_model_family: 'sdxl',
    learning_rate: null,
    started_at: null,
    created_at: null,
    format: 'kohya',
    config_hash: null,
    loss_per_epoch: [{ mean: 0.1 }],
    ...overrides,
  };
}

describe('rollups/keys curve keys', () => {
  it.each([
    ['a run with a curve, family and rank', fields(), ['curve:image/sdxl', 'curve_rank:image/sdxl:16']],
    ['an unknown rank: the family curve only', fields({ lora_rank: null }), ['curve:image/sdxl']],
    ['an unknown family: no curve', fields({ base_model_family: null }), []],
    ['no loss per epoch: no curve', fields({ loss_per_epoch: [] }), []],
    ['only NaN/null losses: no curve', fields({ loss_per_epoch: [{ mean: Number.NaN }, { mean: null }] }), []],
  ])('%s', (_name, input, want) => {
    expect(bucketKeys(input).filter((k) => k.startsWith('curve'))).toEqual(want);
  });
});

describe('rollups/curve', () => {
  it('one doc per epoch with exact means, counting per epoch the runs that reached it', () => {
    const docs = curve('curve:image/sdxl', [run('a', [0.3, 0.2, 0.1]), run('b', [0.5, 0.4]), run('c', [0.7])]);

    expect(docs).toEqual([
      {
        id: 'curve:image/sdxl:1',
        doc: {
          kind: 'curve',
          key: 'curve:image/sdxl',
          computed_at: NOW.toISOString(),
          task: 'image',
          base_model_family: 'sdxl',
          family_group: 'image/sdxl',
          epoch: 1,
          runs: 3,
          loss_mean: (0.3 + 0.5 + 0.7) / 3,
          loss_min: 0.3,
          loss_max: 0.7,
          loss_sum: 0.3 + 0.5 + 0.7,
        },
      },
      expect.objectContaining({
        id: 'curve:image/sdxl:2',
        doc: expect.objectContaining({ epoch: 2, runs: 2, loss_mean: (0.2 + 0.4) / 2, loss_min: 0.2, loss_max: 0.4 }),
      }),
      expect.objectContaining({
        id: 'curve:image/sdxl:3',
        doc: expect.objectContaining({ epoch: 3, runs: 1, loss_mean: 0.1, loss_min: 0.1, loss_max: 0.1, loss_sum: 0.1 }),
      }),
    ]);
  });

  it('the mean is over runs (sum / count), not a mean of partial means', () => {
    const runs = [run('a', [1]), run('b', [2]), run('c', [6])];

    const [doc] = curve('curve:image/sdxl', runs).map((d) => d.doc);

    expect(doc).toMatchObject({ runs: 3, loss_sum: 9, loss_mean: 3 });
  });

  it('skips NaN and null losses without counting them', () => {
    const docs = curve('curve:image/sdxl', [run('a', [Number.NaN, 0.4]), run('b', [null, 0.2]), run('c', [0.9, Number.POSITIVE_INFINITY])]);

    expect(docs.map((d) => [d.id, d.doc.runs, d.doc.loss_mean])).toEqual([
      ['curve:image/sdxl:1', 1, 0.9],
      ['curve:image/sdxl:2', 2, (0.4 + 0.2) / 2],
    ]);
  });

  it('counts a run once per epoch even when its curve repeats an epoch', () => {
    const twice = run('a', [0.5], { loss_per_epoch: [0.5, 0.7].map((mean) => ({ epoch: 1, mean, last: null, min: null, steps: null })) });

    expect(curve('curve:image/sdxl', [twice]).map((d) => d.doc)).toEqual([expect.objectContaining({ runs: 1, loss_mean: 0.5, loss_max: 0.5 })]);
  });

  it('per-rank curves carry their rank and family', () => {
    const [first] = curve('curve_rank:text/qwen:16', [run('a', [2.5], { format: 'hf-peft', base_model_family: 'qwen', lora_rank: 16 })]);

    expect(first).toEqual({
      id: 'curve_rank:text/qwen:16:1',
      doc: expect.objectContaining({ kind: 'curve_rank', key: 'curve_rank:text/qwen:16', family_group: 'text/qwen', task: 'text', lora_rank: 16, epoch: 1 }),
    });
  });

  it('writes the same values whatever order the runs arrive in (incremental and full recomputation agree)', () => {
    const means = [0.1, 1e16, 0.2, -1e16, 0.3, 1 / 3, 2 / 3, 1e-9];
    const runs = means.map((m, i) => run(`r${i}`, [m]));

    const forward = curve('curve:image/sdxl', runs);
    const backward = curve('curve:image/sdxl', [...runs].reverse());
    const shuffled = curve('curve:image/sdxl', [runs[3], runs[0], runs[6], runs[1], runs[7], runs[2], runs[5], runs[4]] as RollupRun[]);

    expect(backward).toEqual(forward);
    expect(shuffled).toEqual(forward);
    // Python's math.fsum of the same values; a plain left-to-right sum gives 1.300000001, right-to-left 2.1.
    expect(forward[0]?.doc).toMatchObject({ runs: 8, loss_sum: 1.600000001, loss_mean: 0.200000000125 });
  });

  it('other keys keep one bucket document under the key itself', () => {
    const acc = accumulatorFor('rank:8');
    acc.add(run('a', [0.5]));

    expect(acc.docs(NOW).map((d) => [d.id, d.doc.kind, d.doc.count])).toEqual([['rank:8', 'rank', 1]]);
  });
});

describe('rollups/exact-sum', () => {
  it.each([
    [[0.1, 0.2, 0.3], 0.6],
    [[1e100, 1, -1e100, 1e-100], 1],
    [[1e16, 1, 1e-16], 10000000000000002],
    [[], 0],
  ])('sum of %j is %d exactly', (values, want) => {
    const sum = new ExactSum();
    for (const v of values) {
      sum.add(v);
    }

    expect(sum.value()).toBe(want);
  });
});

describe('rollups/curve accumulatorFor: config buckets', () => {
  it('writes a config bucket only for a config run at least twice (a config run once has no bucket)', () => {
    const once = accumulatorFor('config:h1');
    once.add(run('a', [0.1], { config_hash: 'h1', loss_final: 0.1 }));
    expect(once.docs(NOW)).toEqual([]);
    once.add(run('b', [0.2], { config_hash: 'h1', loss_final: 0.3 }));
    expect(once.docs(NOW)).toMatchObject([{ id: 'config:h1', doc: { kind: 'config', count: 2 } }]);
    const rank = accumulatorFor('rank:8');
    rank.add(run('a', [0.1]));
    expect(rank.docs(NOW)).toHaveLength(1);
  });
});

describe('rollups/curve epochs counted once', () => {
  const point = fc.record({
    epoch: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constant(2.5)),
    mean: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(Number.NaN), fc.constant(null)),
  });

  /** The rule as written before the ordered fast path: each countable epoch of a run once, the first point wins. */
  function reference(runs: RollupRun[]): Map<number, { runs: number; min: number; max: number; sum: number }> {
    const out = new Map<number, { runs: number; min: number; max: number; sum: number }>();
    for (const r of runs) {
      const seen = new Set<number>();
      for (const p of r.loss_per_epoch) {
        if (p.mean === null || !Number.isFinite(p.mean) || !Number.isInteger(p.epoch) || seen.has(p.epoch)) {
          continue;
        }
        seen.add(p.epoch);
        const s = out.get(p.epoch) ?? { runs: 0, min: p.mean, max: p.mean, sum: 0 };
        out.set(p.epoch, { runs: s.runs + 1, min: Math.min(s.min, p.mean), max: Math.max(s.max, p.mean), sum: s.sum + p.mean });
      }
    }
    return out;
  }

  it('counts each epoch of a run once, in or out of order, with or without repeats', () => {
    fc.assert(
      fc.property(fc.array(fc.array(point, { maxLength: 8 }), { maxLength: 5 }), (curves) => {
        const runs = curves.map((points, i) =>
          run(`r${i}`, [], { loss_per_epoch: points.map((p) => ({ ...p, mean: p.mean as number, last: null, min: null, steps: null })) }),
        );
        const want = reference(runs);
        const got = curve('curve:image/sdxl', runs).map((d) => d.doc);
        expect(got.map((d) => [d.epoch, d.runs, d.loss_min, d.loss_max])).toEqual(
          [...want.entries()].sort(([a], [b]) => a - b).map(([epoch, s]) => [epoch, s.runs, s.min, s.max]),
        );
      }),
      { numRuns: 1000 },
    );
  });
});
