/**
 * Float32 values widened to float64 print with noise (`0.05999999865889549` for the float32 nearest 0.06).
 * These helpers store them as the shortest decimal that reads back as the same float32, which is what the
 * writing tool meant and what TensorBoard shows.
 */

/** Significant digits that always identify a float32 (FLT_DECIMAL_DIG). */
const FLOAT32_MAX_DIGITS = 9;

/**
 * The shortest decimal that rounds (`Math.fround`) to the same float32 as `x`. For a value that was read as a
 * float32 (a tfevents `simple_value`); NaN and ±Infinity are returned as they are.
 */
export function shortestFloat32(x: number): number {
  if (!Number.isFinite(x)) {
    return x;
  }
  const f = Math.fround(x);
  if (!Number.isFinite(f)) {
    // Beyond the float32 range: not a float32 value at all, keep it.
    return x;
  }
  for (let digits = 1; digits < FLOAT32_MAX_DIGITS; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) {
      return candidate;
    }
  }
  return Number(f.toPrecision(FLOAT32_MAX_DIGITS));
}

/**
 * `x` as its shortest float32 decimal only when `x` is exactly a float32 that prints longer than that decimal,
 * i.e. a float32 widened to float64 (Python `str(float(np.float32(0.06)))`). Values a float64 wrote on purpose
 * (`1e-4`, `1680716500.7709305`) are not exactly float32, and short float32-exact ones (`0.5`, `8`) print the
 * same either way, so both are returned unchanged.
 */
export function denoiseFloat32(x: number): number {
  if (!Number.isFinite(x) || Math.fround(x) !== x) {
    return x;
  }
  const shortest = shortestFloat32(x);
  return String(shortest).length < String(x).length ? shortest : x;
}
