import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { createSeriesSampler } from '../../../../src/formats/common/series-sampler.ts';

describe('formats/common/series-sampler', () => {
  it.each([
    [0, 10, []],
    [5, 10, [0, 1, 2, 3, 4]],
    [10, 10, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
    [11, 10, [0, 2, 4, 6, 8, 10]],
    [12, 10, [0, 2, 4, 6, 8, 10, 11]],
    [3, 1, [2]],
    [4, 2, [0, 3]],
  ])('keeps %i points of at most %i as %j', (count, max, expected) => {
    const sampler = createSeriesSampler<number>(max);

    for (let i = 0; i < count; i++) {
      sampler.add(i);
    }

    expect(sampler.points()).toEqual(expected);
    expect(sampler.seen).toBe(count);
  });

  it('stays within bounds, evenly spaced, first and last kept, for any length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 2, max: 200 }), (count, max) => {
        const sampler = createSeriesSampler<number>(max);
        for (let i = 0; i < count; i++) {
          sampler.add(i);
        }

        const points = sampler.points();

        expect(points.length).toBeLessThanOrEqual(max);
        expect(points.length).toBeGreaterThanOrEqual(Math.min(count, Math.floor(max / 2)));
        expect(points[0]).toBe(0);
        expect(points.at(-1)).toBe(count - 1);
        const gaps = new Set(points.slice(1, -1).map((p, i) => p - points[i]!));
        expect(gaps.size).toBeLessThanOrEqual(1);
      }),
    );
  });
});
