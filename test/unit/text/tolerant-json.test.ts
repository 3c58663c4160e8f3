import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { JsonText, parseTolerantJson } from '../../../src/text/tolerant-json.ts';

describe('src/text/tolerant-json', () => {
  it.each([
    ['plain JSON', '{"a": [1, 2.5, "x"]}', { a: [1, 2.5, 'x'] }, 0],
    ['NaN', '{"loss": NaN}', { loss: null }, 1],
    ['±Infinity in an array', '[Infinity, -Infinity, 1]', [null, null, 1], 2],
    ['no spaces', '{"a":NaN,"b":-Infinity}', { a: null, b: null }, 2],
    ['a top-level token', 'NaN', null, 1],
    ['a UTF-8 BOM', '\uFEFF{"a": 1}', { a: 1 }, 0],
    ['CRLF line endings', '{\r\n  "a": 1,\r\n  "b": NaN\r\n}\r\n', { a: 1, b: null }, 1],
    ['NaN inside strings', '{"NaN": "NaN and Infinity", "x": NaN, "q": "say \\"NaN\\""}', { NaN: 'NaN and Infinity', x: null, q: 'say "NaN"' }, 1],
    ['an escaped backslash before a closing quote', '{"p": "C:\\\\", "v": Infinity}', { p: 'C:\\', v: null }, 1],
  ])('parses %s', (_name, text, value, nonFinite) => {
    expect(parseTolerantJson(text)).toEqual({ ok: true, value, nonFinite });
  });

  it.each([
    ['empty text', ''],
    ['a trailing comma', '{"a": 1,}'],
    ['a word that only starts with NaN', '{"a": NaNa}'],
    ['a token glued to a number', '[1NaN]'],
    ['lower-case nan', '{"a": nan}'],
    ['an unterminated string', '{"a": "NaN'],
    ['single quotes', "{'a': 1}"],
  ])('rejects %s', (_name, text) => {
    expect(parseTolerantJson(text)).toMatchObject({ ok: false, message: expect.any(String) });
  });

  it('is usable as a zod pipe, failing with an issue rather than throwing', () => {
    const Shape = JsonText.pipe(z.object({ loss: z.number().nullable() }));

    const good = Shape.safeParse('{"loss": NaN}');
    const bad = Shape.safeParse('{"loss": ');

    expect(good).toMatchObject({ success: true, data: { loss: null } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.code).toBe('custom');
  });

  it('agrees with JSON.parse on any valid JSON and keeps strings intact', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);

        expect(parseTolerantJson(text)).toEqual({ ok: true, value: JSON.parse(text), nonFinite: 0 });
      }),
    );
  });

  it('maps every non-finite number Python would write to null, whatever the strings around it', () => {
    const item = fc.oneof(
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.string({ unit: fc.constantFrom('N', 'a', 'I', '-', '"', '\\', 'n', 'f', ' ') }),
    );
    fc.assert(
      fc.property(fc.array(item, { maxLength: 8 }), (items) => {
        const text = `[${items.map((v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : JSON.stringify(v))).join(', ')}]`;

        const result = parseTolerantJson(text);

        const expected = items.map((v) => (typeof v === 'number' ? (Number.isFinite(v) ? JSON.parse(JSON.stringify(v)) : null) : v));
        expect(result).toEqual({ ok: true, value: expected, nonFinite: items.filter((v) => typeof v === 'number' && !Number.isFinite(v)).length });
      }),
    );
  });

  it('never throws and always terminates on random text', () => {
    const unit = fc.constantFrom(...'{}[]",:\\ NaInfity-0123.e\r\n\uFEFFtrulsf'.split(''));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 100 }), fc.string({ unit, maxLength: 100 })), (text) => {
        const strict = strictJson(text.replace(/^\uFEFF/, ''));

        const result = parseTolerantJson(text);

        if (strict.ok) {
          expect(result).toEqual({ ok: true, value: strict.value, nonFinite: 0 });
        } else if (result.ok) {
          // Only the non-finite tokens may have made it parse, and they became nulls that JSON can carry.
          expect(result.nonFinite).toBeGreaterThan(0);
          expect(JSON.parse(JSON.stringify(result.value))).toEqual(result.value);
        } else {
          expect(result.message).not.toBe('');
        }
      }),
      { numRuns: 3000 },
    );
  });
});

// --- internal ---

function strictJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
