/**
 * A fast path for the commonest config shape: one `key: value` per line, values scalars or one-line flow
 * lists of scalars (`tags: [style, t3]`), comments and blank lines. Returns the same values as `yaml`'s
 * `parse` (YAML 1.2 core schema) or `null` for anything else, and the caller falls back to the full parser.
 * It only accepts what it is sure about: every rule below is narrower than YAML's (a property test holds
 * it to `yaml` on random documents). The full parser costs ~130 µs for a 10-line config; this ~5 µs.
 */
export function parseFlatYaml(text: string): Record<string, unknown> | null {
  if (text.includes('\r') || text.includes('\t')) {
    return null;
  }
  const out: Record<string, unknown> = {};
  let keys = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) {
      end = text.length;
    }
    const line = text.slice(start, end);
    start = end + 1;
    if (isBlankOrComment(line)) {
      continue;
    }
    const m = KEY.exec(line);
    if (!m) {
      return null;
    }
    const key = m[1] as string;
    if (RESERVED_KEY.test(key) || Object.hasOwn(out, key)) {
      return null;
    }
    const value = parseValue(line.slice(m[0].length));
    if (value === FALLBACK) {
      return null;
    }
    out[key] = value;
    keys += 1;
  }
  // An empty document (or comments only) is `null` to YAML, not `{}`.
  return keys > 0 ? out : null;
}

// --- internal ---

const FALLBACK = Symbol('fallback');

/** A plain key at column 0, then `:` and a space or the end of the line. */
const KEY = /^([A-Za-z_][A-Za-z0-9_-]*):(?= |$)/;
/** Keys YAML would resolve to a non-string (null, booleans) or that would touch the prototype. */
const RESERVED_KEY = /^(?:null|Null|NULL|true|True|TRUE|false|False|FALSE|__proto__)$/;
/** Plain scalars made only of these characters, not starting with an indicator, are safe in block context. */
const PLAIN = /^[A-Za-z0-9_./~+-][A-Za-z0-9_./~+\-, ]*$/;
/** Items of a flow list: a narrower alphabet (no commas or spaces inside). */
const FLOW_PLAIN = /^[A-Za-z0-9_./~+-]+$/;
const QUOTED_DOUBLE = /^"([^"\\]*)"$/;
const QUOTED_SINGLE = /^'([^']*)'$/;

function isBlankOrComment(line: string): boolean {
  const trimmed = line.trimStart();
  return trimmed === '' || trimmed.startsWith('#');
}

function parseValue(rest: string): unknown {
  const value = stripComment(rest);
  if (value === null) {
    return FALLBACK;
  }
  if (value === '') {
    return null;
  }
  if (value.startsWith('[')) {
    return parseFlowList(value);
  }
  return parseScalar(value, PLAIN);
}

/** The value without a trailing ` # comment` and surrounding spaces; `null` when a `#` is anywhere else (YAML's rules there are subtle). */
function stripComment(rest: string): string | null {
  let value = rest;
  const hash = value.indexOf(' #');
  if (hash >= 0) {
    value = value.slice(0, hash);
  }
  value = value.trim();
  return value.includes('#') ? null : value;
}

function parseFlowList(value: string): unknown {
  if (!value.endsWith(']') || value.indexOf('[', 1) >= 0 || value.indexOf(']') !== value.length - 1) {
    return FALLBACK;
  }
  const inner = value.slice(1, -1).trim();
  if (inner === '') {
    return [];
  }
  const items: unknown[] = [];
  for (const raw of inner.split(',')) {
    const item = parseScalar(raw.trim(), FLOW_PLAIN);
    if (item === FALLBACK || raw.trim() === '') {
      return FALLBACK;
    }
    items.push(item);
  }
  return items;
}

function parseScalar(value: string, plain: RegExp): unknown {
  const first = value[0];
  if (first === '"') {
    const m = QUOTED_DOUBLE.exec(value);
    return m ? m[1] : FALLBACK;
  }
  if (first === "'") {
    const m = QUOTED_SINGLE.exec(value);
    return m ? m[1] : FALLBACK;
  }
  if (!plain.test(value) || value === '-' || value.endsWith(' ') || value.includes('  ') || (first === '-' && value[1] === ' ')) {
    return FALLBACK;
  }
  return resolvePlain(value);
}

/** YAML 1.2 core schema resolution of a plain scalar, in the order and with the conversions of `yaml` 2.x. */
function resolvePlain(value: string): unknown {
  if (/^(?:~|[Nn]ull|NULL)$/.test(value)) {
    return null;
  }
  if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(value)) {
    return value[0] === 't' || value[0] === 'T';
  }
  if (/^0o[0-7]+$/.test(value)) {
    return parseInt(value.substring(2), 8);
  }
  if (/^[-+]?[0-9]+$/.test(value)) {
    return parseInt(value, 10);
  }
  if (/^0x[0-9a-fA-F]+$/.test(value)) {
    return parseInt(value.substring(2), 16);
  }
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(value)) {
    return value.slice(-3).toLowerCase() === 'nan' ? NaN : value[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(value) || /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(value)) {
    return parseFloat(value);
  }
  return value;
}
