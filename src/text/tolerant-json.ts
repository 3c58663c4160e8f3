import { z } from 'zod';
import { jsonErrorMessage } from './parse-error-message.ts';

export type TolerantJsonResult = { ok: true; value: unknown; nonFinite: number } | { ok: false; message: string };

/** Python's `json.dumps` writes these for float('nan'/'inf'/'-inf'); they are not JSON. Longest first. */
const NON_FINITE_TOKENS = ['-Infinity', 'Infinity', 'NaN'] as const;

/**
 * JSON text, parsed tolerantly (see `parseTolerantJson`; NaN/±Infinity become null). Pipe it into a shape
 * schema: `JsonText.pipe(MyShape)`. A parse failure is a zod issue, never an exception.
 */
export const JsonText = z.string().transform((text, ctx): unknown => {
  const result = parseTolerantJson(text);
  if (!result.ok) {
    ctx.addIssue({ code: 'custom', message: result.message, input: text });
    return z.NEVER;
  }
  return result.value;
});
export type JsonText = z.infer<typeof JsonText>;

/**
 * Parses JSON as Python writes it: a leading UTF-8 BOM is dropped, CRLF is fine (it is JSON whitespace), and the
 * bare tokens `NaN`, `Infinity`, `-Infinity` outside strings become `null` (Elasticsearch rejects non-finite
 * numbers), counted in `nonFinite`. Strings are never touched. Never throws.
 */
export function parseTolerantJson(text: string): TolerantJsonResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const strict = tryParse(body);
  if (strict.ok) {
    return { ok: true, value: strict.value, nonFinite: 0 };
  }
  const { text: replaced, count } = replaceNonFinite(body);
  if (count === 0) {
    return { ok: false, message: jsonErrorMessage(body) };
  }
  const tolerant = tryParse(replaced);
  return tolerant.ok ? { ok: true, value: tolerant.value, nonFinite: count } : { ok: false, message: jsonErrorMessage(body) };
}

// --- internal ---

/** JSON.parse's own message quotes the text around the error (a secret, often), so only success is taken from it. */
function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Replaces non-finite tokens outside strings with `null`, in one linear scan. */
function replaceNonFinite(text: string): { text: string; count: number } {
  const parts: string[] = [];
  let count = 0;
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i = skipString(text, i);
      continue;
    }
    const token = c === '-' || c === 'I' || c === 'N' ? NON_FINITE_TOKENS.find((t) => text.startsWith(t, i)) : undefined;
    if (token !== undefined && !isWordChar(text[i - 1]) && !isWordChar(text[i + token.length])) {
      parts.push(text.slice(copied, i), 'null');
      count++;
      i += token.length;
      copied = i;
      continue;
    }
    i++;
  }
  parts.push(text.slice(copied));
  return { text: parts.join(''), count };
}

/** Index just past the string starting at `start` (a `"`), or the end of text when unterminated. */
function skipString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') {
      i += 2;
    } else if (c === '"') {
      return i + 1;
    } else {
      i++;
    }
  }
  return text.length;
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[\w$.]/.test(c);
}
