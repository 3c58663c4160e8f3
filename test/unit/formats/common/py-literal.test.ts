import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { parsePyDictLine, parsePyLiteral } from '../../../../src/formats/common/py-literal.ts';

describe('formats/common/py-literal', () => {
  it.each([
    ['True', true],
    ['False', false],
    ['None', null],
    ['4', 4],
    ['-3', -3],
    ['2097167670', 2097167670],
    ['4.0', 4],
    ['0.0003', 0.0003],
    ['1e-05', 1e-5],
    ['2.5000e-06', 2.5e-6],
    ['1680716500.7709305', 1680716500.7709305],
    ['1_000', 1000],
    ['.5', 0.5],
    ['nan', null],
    ['inf', null],
    ['-inf', null],
    ['(768, 768)', [768, 768]],
    ['(1,)', [1]],
    ['()', []],
    ['[0.1, -2, None, True]', [0.1, -2, null, true]],
    ['((1, 2), [3])', [[1, 2], [3]]],
    ["'fp16'", 'fp16'],
    ['"it\'s"', "it's"],
    ["'a\\'b\\n\\\\'", "a'b\n\\"],
    ["'\\x41\\u00e9\\U0001F600'", 'Aé😀'],
    ["'smart falcon \\\\(umamusume\\\\)'", 'smart falcon \\(umamusume\\)'],
    ["'keeps \\q'", 'keeps \\q'],
    ["{'a': 1, 'b': (2, 3), 'c': {'d': None}}", { a: 1, b: [2, 3], c: { d: null } }],
    ['  True  ', true],
  ])('parses %s', (text, expected) => {
    expect(parsePyLiteral(text)).toEqual(expected);
  });

  it.each([
    [''],
    ['cosine_with_restarts'],
    ['lycoris.kohya'],
    ['lion_pytorch.lion_pytorch.Lion(weight_decay=0.1)'],
    ['true'],
    ['(768, 768'],
    ['(768 768)'],
    ['[1,,2]'],
    ["'unterminated"],
    ['1.5.3'],
    ['1e'],
    ['1__0'],
    ['1_'],
    ['0x10'],
    ['-True'],
    ['infinity'],
    ['{1: 2}'],
    ["{'a' 1}"],
    ["'\\x4'"],
    ['b"bytes"'],
    ['__proto__'],
    ['['.repeat(100) + ']'.repeat(100)],
  ])('returns undefined for %s', (text) => {
    expect(parsePyLiteral(text)).toBeUndefined();
  });

  it('does not let a __proto__ key change the prototype', () => {
    const value = parsePyLiteral("{'__proto__': {'polluted': 1}}") as Record<string, unknown>;

    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
  });

  it.each([
    [
      "[INFO|2024-11-26 22:09:01] logging.py:157 >> {'loss': 2.2818, 'learning_rate': 2.5000e-06, 'epoch': 0.29}",
      { loss: 2.2818, learning_rate: 2.5e-6, epoch: 0.29 },
    ],
    ["{'train_runtime': 3202.5298, 'train_loss': 0.0877, 'epoch': 100.0}\r\n", { train_runtime: 3202.5298, train_loss: 0.0877, epoch: 100 }],
    ["{'loss': nan, 'grad_norm': inf, 'done': True, 'name': 'x'}", { loss: null, grad_norm: null, done: true, name: 'x' }],
    ["prefix {not a dict} >> {'task': {'name': 'Causal LM'}, 'step': 3}", { step: 3 }],
  ])('parses the dict at the end of %s', (line, expected) => {
    expect(parsePyDictLine(line)).toEqual(expected);
  });

  it.each([['[INFO|2024-11-26 22:09:01] logging.py:157 >> Training completed.'], ['{"loss": 1} trailing'], ['[1, 2]'], ['{oops}'], ['']])(
    'returns undefined for the line %s',
    (line) => {
      expect(parsePyDictLine(line)).toBeUndefined();
    },
  );

  it('round-trips generated literals written the way Python prints them', () => {
    fc.assert(
      fc.property(pyValue, ([text, expected]) => {
        expect(parsePyLiteral(text)).toEqual(expected);
      }),
    );
  });

  it('never throws and always terminates on random text', () => {
    const alphabet = fc.constantFrom(...'()[]{},:\'"\\ -+.e_0123456789TrueFalsNoninfx'.split(''));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: alphabet, maxLength: 80 })), (text) => {
        const literal = parsePyLiteral(text);
        const line = parsePyDictLine(text);

        expect(literal === undefined || literal === null || ['boolean', 'number', 'string', 'object'].includes(typeof literal)).toBe(true);
        expect(line === undefined || typeof line === 'object').toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

// --- internal ---

type Expected = null | boolean | number | string | Expected[];

const pyScalar: fc.Arbitrary<[string, Expected]> = fc.oneof(
  fc.constantFrom<[string, Expected]>(['True', true], ['False', false], ['None', null]),
  fc.integer().map((n): [string, Expected] => [String(n), n]),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n): [string, Expected] => [pyFloatRepr(n), n]),
  fc.string({ maxLength: 12 }).map((s): [string, Expected] => [`'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n')}'`, s]),
);

const pyValue: fc.Arbitrary<[string, Expected]> = fc.oneof(
  pyScalar,
  fc.array(pyScalar, { maxLength: 4 }).map((items): [string, Expected] => [`[${items.map((i) => i[0]).join(', ')}]`, items.map((i) => i[1])]),
  fc.array(pyScalar, { minLength: 2, maxLength: 4 }).map((items): [string, Expected] => [`(${items.map((i) => i[0]).join(', ')})`, items.map((i) => i[1])]),
);

/** Python's float repr: shortest round-trip digits, exponent as e-05 / e+20, always a dot or exponent. */
function pyFloatRepr(n: number): string {
  if (Object.is(n, -0)) {
    return '-0.0';
  }
  const js = String(n);
  if (js.includes('e')) {
    return js.replace(/e([+-])(\d)$/, 'e$10$2');
  }
  return js.includes('.') ? js : `${js}.0`;
}
