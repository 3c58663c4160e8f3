/** How run values are written in tables, `show` and `compare`. */

export const shortId = (id: string): string => id.slice(0, 8);

/** A number to `digits` significant digits, without float noise; '' for null. */
export function num(n: number | null | undefined, digits = 4): string {
  return n === null || n === undefined ? '' : String(Number(n.toPrecision(digits)));
}

/** A learning rate in short exponent form (`1e-4`, `2.5e-5`). */
export function lr(n: number | null | undefined): string {
  return n === null || n === undefined
    ? ''
    : n
        .toExponential()
        .replace(/\.?0+e/, 'e')
        .replace('e+', 'e');
}

export function day(iso: string | null | undefined): string {
  return iso?.slice(0, 10) ?? '';
}

/**
 * The base model as its family plus its short name (`sdxl · animagine-xl-3.1`): the last path segment without a
 * weights extension, so a long path or hub id is not cut where it matters.
 */
export function baseLabel(base: string | null | undefined, family: string | null | undefined): string {
  const short = base
    ? (
        base
          .replace(/[\\/]+$/, '')
          .split(/[\\/]/)
          .pop() ?? base
      ).replace(/\.(safetensors|ckpt|pt|bin|pth)$/i, '')
    : '';
  if (family && short) {
    return short.toLowerCase() === family.toLowerCase() ? family : `${family} · ${short}`;
  }
  return family ?? short;
}

export interface RunState {
  state?: string | null;
  vanished_at?: string | null;
  retired_at?: string | null;
}

/** `vanished since 2025-06-01`, `retired 2025-06-02`, both, or '' for an active run. */
export function stateLabel(r: RunState): string {
  const parts: string[] = [];
  if (r.state === 'vanished') {
    parts.push(r.vanished_at ? `vanished since ${day(r.vanished_at)}` : 'vanished');
  }
  if (r.retired_at) {
    parts.push(`retired ${day(r.retired_at)}`);
  }
  return parts.join(', ');
}
