/**
 * Deterministic, bounded downsampling of a series whose length is unknown up front ("stride doubling").
 * Points whose index is a multiple of the current stride are kept; when the buffer overflows, every other kept
 * point is dropped and the stride doubles. The result is evenly spaced in point index, always starts with the
 * first point and ends with the last one, and holds between ~maxPoints/2 and maxPoints points once thinning
 * has started. Unlike reservoir sampling it gives the same output for the same input, so re-crawls are stable.
 * Values are not averaged: a short spike between kept points can be lost.
 */
export interface SeriesSampler<T> {
  add(point: T): void;
  /** Number of points added so far. */
  readonly seen: number;
  /** The kept points, in insertion order (a fresh array). */
  points(): T[];
}

/** Creates a sampler that returns at most `maxPoints` (>= 1) points. */
export function createSeriesSampler<T>(maxPoints: number): SeriesSampler<T> {
  const capacity = Math.max(0, Math.floor(maxPoints) - 1);
  let kept: T[] = [];
  let stride = 1;
  let seen = 0;
  let last: T | undefined;
  return {
    add(point: T): void {
      // The newest point is held apart and committed only when the next one arrives, so the last point is
      // always returned and a series of exactly maxPoints is not thinned.
      if (seen > 0 && capacity > 0 && (seen - 1) % stride === 0) {
        kept.push(last as T);
        if (kept.length > capacity) {
          kept = kept.filter((_, i) => i % 2 === 0);
          stride *= 2;
        }
      }
      last = point;
      seen++;
    },
    get seen(): number {
      return seen;
    },
    points(): T[] {
      return seen === 0 ? [] : [...kept, last as T];
    },
  };
}
