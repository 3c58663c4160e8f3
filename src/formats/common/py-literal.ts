/** A value Python's `repr()`/`str()` of a literal can produce, as we model it. */
export type PyLiteral = null | boolean | number | string | PyLiteral[] | { [key: string]: PyLiteral };

/** A flat `dict` line from a log: the scalar values only. */
export type PyDictLine = Record<string, number | string | boolean | null>;

/** Real metadata nests two levels at most; the bound keeps the recursive parser off the stack limit. */
const MAX_DEPTH = 32;

/** A log-line prefix (`[INFO|…] logging.py:157 >> `) holds few braces; bound the re-tries on odd lines. */
const MAX_DICT_STARTS = 8;

/**
 * Parses what Python's `str()` writes for a literal: `True`/`False` → boolean, `None` → null, ints and floats
 * (`1e-05`, `4.0`; `nan`/`inf` → null, like NaN in tolerant JSON), quoted strings, tuples and lists → arrays,
 * dicts with string keys → objects. Anything else (plain text, `Lion(weight_decay=0.1)`, trailing junk) is
 * `undefined`. Never evaluates anything and never throws.
 */
export function parsePyLiteral(text: string): PyLiteral | undefined {
  const parser = { text, pos: 0 };
  const value = parseValue(parser, 0);
  skipSpace(parser);
  return value !== undefined && parser.pos === text.length ? value : undefined;
}

/**
 * The dict at the end of a log line, e.g. LLaMA-Factory's running_log
 * `[INFO|2024-11-26 22:09:01] logging.py:157 >> {'loss': 2.2818, 'learning_rate': 2.5000e-06, 'epoch': 0.29}`.
 * Nested values are left out. `undefined` when the line does not end with a dict literal.
 */
export function parsePyDictLine(line: string): PyDictLine | undefined {
  const trimmed = line.trimEnd();
  if (!trimmed.endsWith('}')) {
    return undefined;
  }
  let start = trimmed.indexOf('{');
  for (let tries = 0; start !== -1 && tries < MAX_DICT_STARTS; tries++) {
    const value = parsePyLiteral(trimmed.slice(start));
    if (value !== undefined && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      return flatScalars(value);
    }
    start = trimmed.indexOf('{', start + 1);
  }
  return undefined;
}

// --- internal ---

interface Parser {
  text: string;
  pos: number;
}

const NUMBER = /[-+]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d+)?/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const WORDS: Record<string, PyLiteral> = { True: true, False: false, None: null, nan: null, inf: null };
const CLOSING: Record<string, string> = { '(': ')', '[': ']' };
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0', a: '\x07', b: '\b', f: '\f', v: '\v' };

function parseValue(p: Parser, depth: number): PyLiteral | undefined {
  if (depth > MAX_DEPTH) {
    return undefined;
  }
  skipSpace(p);
  const c = p.text[p.pos];
  if (c === undefined) {
    return undefined;
  }
  if (c === "'" || c === '"') {
    return parseString(p, c);
  }
  if (c === '(' || c === '[') {
    return parseSequence(p, CLOSING[c]!, depth);
  }
  if (c === '{') {
    return parseDict(p, depth);
  }
  if ((c === '-' || c === '+') && p.text.startsWith('inf', p.pos + 1)) {
    p.pos += 1;
    return parseWord(p);
  }
  if (c === '-' || c === '+' || c === '.' || (c >= '0' && c <= '9')) {
    return parseNumber(p);
  }
  return parseWord(p);
}

function parseWord(p: Parser): PyLiteral | undefined {
  WORD.lastIndex = p.pos;
  const m = WORD.exec(p.text);
  if (m === null || !Object.hasOwn(WORDS, m[0])) {
    return undefined;
  }
  p.pos += m[0].length;
  return WORDS[m[0]];
}

function parseNumber(p: Parser): number | undefined {
  NUMBER.lastIndex = p.pos;
  const m = NUMBER.exec(p.text);
  if (m === null) {
    return undefined;
  }
  const raw = m[0];
  if (raw.includes('__') || /_(?:\D|$)|(?:^|\D)_/.test(raw)) {
    return undefined;
  }
  const value = Number(raw.replaceAll('_', ''));
  if (Number.isNaN(value)) {
    return undefined;
  }
  p.pos += raw.length;
  return value;
}

function parseString(p: Parser, quote: string): string | undefined {
  let out = '';
  let i = p.pos + 1;
  while (i < p.text.length) {
    const c = p.text[i]!;
    if (c === quote) {
      p.pos = i + 1;
      return out;
    }
    if (c === '\n') {
      return undefined;
    }
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const e = p.text[i + 1];
    if (e === undefined) {
      return undefined;
    }
    const hexLength = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLength > 0) {
      const hex = p.text.slice(i + 2, i + 2 + hexLength);
      const code = /^[0-9a-fA-F]+$/.test(hex) && hex.length === hexLength ? Number.parseInt(hex, 16) : -1;
      if (code < 0 || code > 0x10ffff) {
        return undefined;
      }
      out += String.fromCodePoint(code);
      i += 2 + hexLength;
      continue;
    }
    // Python keeps unknown escapes verbatim, backslash included.
    out += ESCAPES[e] ?? `\\${e}`;
    i += 2;
  }
  return undefined;
}

function parseSequence(p: Parser, closing: string, depth: number): PyLiteral[] | undefined {
  const items: PyLiteral[] = [];
  p.pos++;
  while (true) {
    skipSpace(p);
    if (p.text[p.pos] === closing) {
      p.pos++;
      return items;
    }
    const item = parseValue(p, depth + 1);
    if (item === undefined) {
      return undefined;
    }
    items.push(item);
    skipSpace(p);
    if (p.text[p.pos] === ',') {
      p.pos++;
    } else if (p.text[p.pos] !== closing) {
      return undefined;
    }
  }
}

function parseDict(p: Parser, depth: number): { [key: string]: PyLiteral } | undefined {
  const out: { [key: string]: PyLiteral } = {};
  p.pos++;
  while (true) {
    skipSpace(p);
    if (p.text[p.pos] === '}') {
      p.pos++;
      return out;
    }
    const key = parseValue(p, depth + 1);
    skipSpace(p);
    if (typeof key !== 'string' || p.text[p.pos] !== ':') {
      return undefined;
    }
    p.pos++;
    const value = parseValue(p, depth + 1);
    if (value === undefined) {
      return undefined;
    }
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    skipSpace(p);
    if (p.text[p.pos] === ',') {
      p.pos++;
    } else if (p.text[p.pos] !== '}') {
      return undefined;
    }
  }
}

function skipSpace(p: Parser): void {
  while (p.pos < p.text.length && /\s/.test(p.text[p.pos]!)) {
    p.pos++;
  }
}

function flatScalars(dict: { [key: string]: PyLiteral }): PyDictLine {
  const out: PyDictLine = {};
  for (const [key, value] of Object.entries(dict)) {
    if (value === null || typeof value !== 'object') {
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}
