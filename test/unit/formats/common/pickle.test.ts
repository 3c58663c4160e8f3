import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toPlain } from '../../../../src/formats/common/pickle-plain.ts';
import { PickleError, readPickle } from '../../../../src/formats/common/pickle.ts';

/** Python 3.11 `pickle.dumps(v, protocol=2)` and `protocol=4` of the same dict: every basic kind, an OrderedDict, a set, bytes. */
const PROTOCOL_2 =
  '80027d7100285802000000693171014b075802000000693271024d2c015802000000693471034afbffffff5802000000693871048a06000000000001580300000062696771058a0900000000000000004058030000006e656771068a0800000000000000805801000000667107473fb999999999999a58010000007471088858010000006e71094e580100000073710a5809000000e697a5e69cace8aa9e710b58010000006c710c5d710d284b015d710e284b024b0365655803000000747570710f4b01580100000061711086711158010000006471127d711358010000006b7114473ff80000000000007358030000007365747115635f5f6275696c74696e5f5f0a7365740a71165d71174b036185711852711958020000006f64711a63636f6c6c656374696f6e730a4f726465726564446963740a711b2952711c68104b0173580100000062711d635f636f646563730a656e636f64650a711e58020000007879711f58060000006c6174696e317120867121527122752e';
const PROTOCOL_4 =
  '800495e7000000000000007d94288c026931944b078c026932944d2c018c026934944afbffffff8c026938948a060000000000018c03626967948a090000000000000000408c036e6567948a0800000000000000808c016694473fb999999999999a8c017494888c016e944e8c0173948c09e697a5e69cace8aa9e948c016c945d94284b015d94284b024b0365658c03747570944b018c01619486948c0164947d948c016b94473ff8000000000000738c03736574948f94284b03908c026f64948c0b636f6c6c656374696f6e73948c0b4f7264657265644469637494939429529468104b01738c0162944302787994752e';

const NO_ENUMS = { isEnum: () => false };

function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

/** Assembles opcodes: strings are latin1 bytes, numbers single bytes, arrays raw bytes. */
function ops(...parts: Array<string | number | number[]>): Uint8Array {
  const bytes: number[] = [];
  for (const part of parts) {
    if (typeof part === 'number') {
      bytes.push(part);
    } else if (typeof part === 'string') {
      bytes.push(...Buffer.from(part, 'latin1'));
    } else {
      bytes.push(...part);
    }
  }
  return Uint8Array.from(bytes);
}

function u32(n: number): number[] {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return [...b];
}

function binunicode(text: string): number[] {
  const b = Buffer.from(text, 'utf8');
  return [0x58, ...u32(b.length), ...b];
}

function errorOf(fn: () => unknown): PickleError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PickleError) {
      return err;
    }
    throw err;
  }
  throw new Error('expected a PickleError');
}

describe('src/formats/common/pickle', () => {
  it.each([
    ['protocol 2', PROTOCOL_2],
    ['protocol 4', PROTOCOL_4],
  ])('reads every basic kind Python writes with %s', (_, bytes) => {
    const plain = toPlain(readPickle(hex(bytes)), NO_ENUMS);

    expect(plain).toEqual({
      i1: 7,
      i2: 300,
      i4: -5,
      i8: 2 ** 40,
      big: '1180591620717411303424',
      neg: '-9223372036854775808',
      f: 0.1,
      t: true,
      n: null,
      s: '日本語',
      l: [1, [2, 3]],
      tup: [1, 'a'],
      d: { k: 1.5 },
      set: [3],
      od: { a: 1 },
      // Python 3 writes bytes in protocol 2 as a call of _codecs.encode: kept as that call, never made.
      b: bytes === PROTOCOL_2 ? { $python: '_codecs.encode', args: ['xy', 'latin1'] } : { $python: 'bytes', length: 2 },
    });
  });

  it('turns a REDUCE of os.system into an inert marker and runs nothing', () => {
    const target = `/tmp/lora-catalog-pickle-${process.pid}-${Date.now()}`;
    const bytes = ops(0x80, 2, 'cos\nsystem\n', binunicode(`touch ${target}`), 0x85, 'R', '.');

    const value = readPickle(bytes);

    expect(toPlain(value, NO_ENUMS)).toEqual({ $python: 'os.system', args: [`touch ${target}`] });
    expect(existsSync(target)).toBe(false);
  });

  it('keeps a nested REDUCE of builtins.eval opaque inside a dict', () => {
    const bytes = ops(0x80, 2, '}', '(', binunicode('x'), 'cbuiltins\neval\n', binunicode('__import__("os").system("id")'), 0x85, 'R', 'u', '.');

    expect(toPlain(readPickle(bytes), NO_ENUMS)).toEqual({ x: { $python: 'builtins.eval', args: ['__import__("os").system("id")'] } });
  });

  it('turns an enum REDUCE into its value only for classes the caller names', () => {
    const bytes = ops(0x80, 2, 'ctransformers.trainer_utils\nSchedulerType\n', binunicode('cosine'), 0x85, 'R', '.');

    expect(toPlain(readPickle(bytes), { isEnum: (cls) => cls === 'transformers.trainer_utils.SchedulerType' })).toBe('cosine');
    expect(toPlain(readPickle(bytes), NO_ENUMS)).toEqual({ $python: 'transformers.trainer_utils.SchedulerType', args: ['cosine'] });
  });

  it('stores a __proto__ key as data, not as the prototype', () => {
    const bytes = ops(0x80, 2, '}', binunicode('__proto__'), '}', binunicode('polluted'), 0x88, 's', 's', '.');

    const plain = toPlain(readPickle(bytes), NO_ENUMS) as Record<string, unknown>;

    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    expect(Object.keys(plain)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['an unknown opcode', ops(0x80, 2, 0xff), /unsupported opcode 0xff at offset 2/],
    ['OBJ, which would call a class', ops(0x80, 2, '(', 'cos\nsystem\n', 'o', '.'), /unsupported opcode 0x6f at offset 14/],
    ['EXT1 (extension registry)', ops(0x80, 2, 0x82, 1, '.'), /unsupported opcode 0x82 at offset 2/],
    [
      'a BINUNICODE length beyond the data',
      ops(0x80, 2, 0x58, ...u32(0xffffffff), 'abc'),
      /BINUNICODE: length 4294967295 exceeds the 3 remaining bytes at offset 2/,
    ],
    ['a BINUNICODE8 length of 2^63', ops(0x80, 4, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0x80), /BINUNICODE8: length 9223372036854775808 exceeds/],
    ['a LONG4 of 1 GiB', ops(0x80, 2, 0x8b, ...u32(1 << 30)), /LONG4: integer of 1073741824 bytes is larger than 64/],
    ['no STOP', ops(0x80, 2, 'N'), /truncated pickle \(no STOP\) at offset 3/],
    ['APPENDS without a MARK', ops(0x80, 2, ']', 'N', 'e', '.'), /APPENDS: no MARK on the stack at offset 4/],
    ['a GET of a memo key never stored', ops(0x80, 2, 'h', 7, '.'), /BINGET: memo key 7 was never stored at offset 2/],
    ['BUILD on a list', ops(0x80, 2, ']', '}', 'b', '.'), /BUILD: target is not an object at offset 4/],
    ['invalid UTF-8', ops(0x80, 2, 0x58, ...u32(2), 0xc3, 0x28, '.'), /BINUNICODE: string is not valid UTF-8 at offset 2/],
  ])('rejects %s, naming the opcode and offset', (_, bytes, message) => {
    expect(errorOf(() => readPickle(bytes)).message).toMatch(message);
  });

  it('stops after the opcode cap and refuses pickles over the size cap', () => {
    const endless = ops(0x80, 2, ...Array.from({ length: 50 }, () => [0x4e, 0x30]).flat(), '.');

    expect(errorOf(() => readPickle(endless, { maxBytes: 1024, maxOps: 20 })).message).toMatch(/more than 20 opcodes/);
    expect(errorOf(() => readPickle(endless, { maxBytes: 10, maxOps: 1000 })).message).toMatch(/exceeds the 10-byte cap/);
  });

  it('reads deep nesting without recursion, and refuses to expand it past 64 levels', () => {
    const depth = 10_000;
    const bytes = ops(0x80, 2, ...Array.from({ length: depth }, () => 0x5d), ...Array.from({ length: depth - 1 }, () => 0x61), '.');

    const value = readPickle(bytes, { maxBytes: 1 << 20, maxOps: 1 << 20 });

    expect(() => toPlain(value, NO_ENUMS)).toThrow(/deeper than 64 levels/);
  });

  it('refuses a reference cycle and a memo "billion laughs" instead of looping or exploding', () => {
    const cycle = ops(0x80, 2, ']', 'q', 0, 'h', 0, 'a', '.');
    const laughs = [0x80, 2, 0x5d, 0x71, 0];
    for (let i = 1; i < 40; i++) {
      laughs.push(0x5d, 0x68, i - 1, 0x61, 0x68, i - 1, 0x61, 0x71, i);
    }
    laughs.push(0x2e);

    expect(() => toPlain(readPickle(cycle), NO_ENUMS)).toThrow(/deeper than 64 levels \(or a reference cycle\)/);
    expect(() => toPlain(readPickle(Uint8Array.from(laughs)), NO_ENUMS)).toThrow(/more than 100000 values/);
  });
});
