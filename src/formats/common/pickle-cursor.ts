/** A value as the pickle describes it (see pickle.ts): plain data, or an inert description of an object. */
export interface PyObject {
  kind: 'object';
  /** `module.qualname` of the callable or class; `'?'` when the callable was not a global. */
  cls: string;
  /** Arguments of the REDUCE/NEWOBJ, as pickled. */
  args: PyValue[];
  /** NEWOBJ (`cls.__new__`) rather than REDUCE (a call). */
  newobj: boolean;
  /** The BUILD argument (usually the `__dict__`), null when none. */
  state: PyValue;
  /** Items appended (APPENDS on a list subclass) or set (SETITEMS on e.g. an `OrderedDict`) on the object. */
  items: PyValue[];
  entries: [PyValue, PyValue][];
}

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | { kind: 'list' | 'tuple' | 'set'; items: PyValue[] }
  | { kind: 'dict'; entries: [PyValue, PyValue][] }
  | { kind: 'global'; name: string }
  | { kind: 'bytes'; length: number }
  | { kind: 'persistent' }
  | PyObject;

/** A pickle that is malformed, too large or uses an opcode this reader does not interpret. */
export class PickleError extends Error {
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = 'PickleError';
    this.offset = offset;
  }
}

/** LONG4 beyond this many bytes is not a hyperparameter; building the bigint would only cost time. */
const MAX_LONG_BYTES = 64;

/** The byte-level half of the pickle machine: reads opcode arguments, bounds-checked, errors naming opcode and offset. */
/** Returned by `Cursor.scalar` for an opcode that does more than read a value. */
export const NOT_SCALAR: unique symbol = Symbol('not a scalar opcode');

export class Cursor {
  protected pos: number;
  protected op = 0;
  protected opName = '';
  protected readonly bytes: Uint8Array;
  protected readonly view: DataView;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(bytes: Uint8Array, start: number) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  protected error(message: string): PickleError {
    return new PickleError(`${this.opName}: ${message}`, this.op);
  }

  /** Moves past `n` argument bytes and returns where they start. */
  protected advance(n: number): number {
    if (n < 0 || this.pos + n > this.bytes.length) {
      throw this.error(`length ${n} exceeds the ${this.bytes.length - this.pos} remaining bytes`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  protected take(n: number): Uint8Array {
    const at = this.advance(n);
    return this.bytes.subarray(at, at + n);
  }

  protected u64(): number {
    const value = this.view.getBigUint64(this.advance(8), true);
    if (value > BigInt(this.bytes.length)) {
      throw this.error(`length ${value} exceeds the ${this.bytes.length - this.pos} remaining bytes`);
    }
    return Number(value);
  }

  protected line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) {
      throw this.error('unterminated text argument');
    }
    const text = new TextDecoder('latin1').decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return text;
  }

  protected text(n: number): string {
    try {
      return this.utf8.decode(this.take(n));
    } catch (err) {
      if (err instanceof PickleError) {
        throw err;
      }
      throw this.error('string is not valid UTF-8');
    }
  }

  protected latin1(n: number): string {
    return new TextDecoder('latin1').decode(this.take(n));
  }

  protected rawBytes(n: number): PyValue {
    this.take(n);
    return { kind: 'bytes', length: n };
  }

  /** The value of an opcode that only reads bytes (numbers, strings, bytes, None, booleans); NOT_SCALAR for the others. */
  protected scalar(name: string): PyValue | typeof NOT_SCALAR {
    switch (name) {
      case 'NONE':
        return null;
      case 'NEWTRUE':
        return true;
      case 'NEWFALSE':
        return false;
      case 'INT':
        return this.textInt();
      case 'LONG':
        return this.textLong();
      case 'FLOAT':
        return Number(this.line());
      case 'BININT':
        return this.view.getInt32(this.advance(4), true);
      case 'BININT1':
        return this.view.getUint8(this.advance(1));
      case 'BININT2':
        return this.view.getUint16(this.advance(2), true);
      case 'LONG1':
        return this.long(this.view.getUint8(this.advance(1)));
      case 'LONG4':
        return this.long(this.view.getInt32(this.advance(4), true));
      case 'BINFLOAT':
        return this.view.getFloat64(this.advance(8), false);
      case 'SHORT_BINUNICODE':
        return this.text(this.view.getUint8(this.advance(1)));
      case 'BINUNICODE':
        return this.text(this.view.getUint32(this.advance(4), true));
      case 'BINUNICODE8':
        return this.text(this.u64());
      case 'SHORT_BINSTRING':
        return this.latin1(this.view.getUint8(this.advance(1)));
      case 'BINSTRING':
        return this.latin1(this.view.getInt32(this.advance(4), true));
      case 'SHORT_BINBYTES':
        return this.rawBytes(this.view.getUint8(this.advance(1)));
      case 'BINBYTES':
        return this.rawBytes(this.view.getUint32(this.advance(4), true));
      case 'BINBYTES8':
        return this.rawBytes(this.u64());
      case 'BYTEARRAY8':
        return this.rawBytes(this.u64());
      default:
        return NOT_SCALAR;
    }
  }

  protected textInt(): PyValue {
    const text = this.line().trim();
    if (text === '00' || text === '01') {
      return text === '01';
    }
    return this.intOf(text);
  }

  protected textLong(): PyValue {
    return this.intOf(this.line().trim().replace(/L$/, ''));
  }

  protected intOf(text: string): PyValue {
    if (!/^[-+]?\d{1,400}$/.test(text)) {
      throw this.error(`not an integer: ${text.slice(0, 40)}`);
    }
    const value = BigInt(text);
    return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  }

  /** Little-endian two's complement of `n` bytes (LONG1/LONG4). */
  protected long(n: number): PyValue {
    if (n < 0 || n > MAX_LONG_BYTES) {
      throw this.error(`integer of ${n} bytes is larger than ${MAX_LONG_BYTES}`);
    }
    const bytes = this.take(n);
    let value = 0n;
    for (let i = n - 1; i >= 0; i--) {
      value = (value << 8n) | BigInt(bytes[i] as number);
    }
    if (n > 0 && ((bytes[n - 1] as number) & 0x80) !== 0) {
      value -= 1n << BigInt(8 * n);
    }
    return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  }
}
