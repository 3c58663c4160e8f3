import { describe, expect, it } from 'vitest';

import { denoiseFloat32, shortestFloat32 } from '../../../../src/formats/common/float32.ts';

describe('formats/common/float32', () => {
  it.each([
    [0.05999999865889549, 0.06],
    [Math.fround(1e-4), 0.0001],
    [Math.fround(0.1), 0.1],
    [Math.fround(0.12667268514633), 0.12667269],
    [0.1266726851463318, 0.12667269],
    [Math.fround(3.4028234663852886e38), 3.4028235e38],
    [Math.fround(1e-45), 1e-45],
    [0, 0],
    [-0.5, -0.5],
    [8, 8],
    [16777217, 16777216],
  ])('shortestFloat32(%s) = %s', (input, want) => {
    const got = shortestFloat32(input);

    expect(got).toBe(want);
    expect(Math.fround(got)).toBe(Math.fround(input));
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e39])('keeps %s, which is no finite float32', (input) => {
    expect(shortestFloat32(input)).toBe(input);
  });

  it.each([
    [0.05999999865889549, 0.06],
    [Math.fround(5e-5), 0.00005],
    [1e-4, 1e-4],
    [0.0003, 0.0003],
    [1680716500.7709305, 1680716500.7709305],
    [0.5, 0.5],
    [8, 8],
    [3010, 3010],
    [0.12345678901234, 0.12345678901234],
  ])('denoiseFloat32(%s) = %s (only widened float32 values change)', (input, want) => {
    expect(denoiseFloat32(input)).toBe(want);
  });
});
