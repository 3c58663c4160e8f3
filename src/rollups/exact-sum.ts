/**
 * A sum of doubles that does not depend on the order of the terms: the exact sum is kept as a few
 * non-overlapping partials (Shewchuk's algorithm, as in Python's `math.fsum`) and rounded once at the
 * end. Rollups add runs in whatever order the engine returns them; an incremental recomputation must
 * write the very same `loss_sum` and `loss_mean` as a full one, bit for bit.
 */
export class ExactSum {
  /** Non-overlapping partials, smallest magnitude first; a handful in practice. */
  private partials: number[] = [];

  /** Adds a finite number (callers filter NaN and infinities). */
  add(value: number): void {
    let x = value;
    let kept = 0;
    for (const p of this.partials) {
      let y = p;
      if (Math.abs(x) < Math.abs(y)) {
        const t = x;
        x = y;
        y = t;
      }
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) {
        this.partials[kept] = lo;
        kept += 1;
      }
      x = hi;
    }
    this.partials.length = kept;
    if (x !== 0) {
      this.partials.push(x);
    }
  }

  /** The exact sum, correctly rounded to the nearest double. */
  value(): number {
    let n = this.partials.length;
    if (n === 0) {
      return 0;
    }
    n -= 1;
    let hi = this.partials[n] as number;
    let lo = 0;
    while (n > 0) {
      const x = hi;
      n -= 1;
      const y = this.partials[n] as number;
      hi = x + y;
      lo = y - (hi - x);
      if (lo !== 0) {
        break;
      }
    }
    // Round half to even across the remaining partials: when lo is exactly half an ulp and the next
    // partial has the same sign, the true sum lies beyond the halfway point.
    const next = n > 0 ? (this.partials[n - 1] as number) : 0;
    if ((lo < 0 && next < 0) || (lo > 0 && next > 0)) {
      const y = lo * 2;
      const x = hi + y;
      if (y === x - hi) {
        hi = x;
      }
    }
    return hi;
  }
}
