/**
 * A reader of Python pickles that never calls anything: GLOBAL/REDUCE/NEWOBJ build inert `PyObject`
 * descriptions (class name + arguments + state) instead of importing and calling. It understands the opcodes
 * `torch.save` (protocol 2) and protocols up to 5 emit for plain data; anything else is an error that names the
 * opcode and its offset. See pickle-plain.ts for turning the result into JSON-like values.
 */
import { Cursor, NOT_SCALAR, PickleError, type PyObject, type PyValue } from './pickle-cursor.ts';
import { OPCODES } from './pickle-opcodes.ts';

export { PickleError };
export type { PyObject, PyValue };

export interface PickleLimits {
  /** Largest pickle accepted, in bytes. */
  maxBytes: number;
  /** Most opcodes executed: bounds time and memory whatever the pickle holds. */
  maxOps: number;
}

/** A training_args pickle is a few KB and a few thousand opcodes; these leave room for any real one. */
export const DEFAULT_PICKLE_LIMITS: PickleLimits = { maxBytes: 1024 * 1024, maxOps: 200_000 };

/** Reads one pickle from `bytes` (up to its STOP) into inert values. Throws `PickleError`. */
export function readPickle(bytes: Uint8Array, limits: PickleLimits = DEFAULT_PICKLE_LIMITS): PyValue {
  return readPickleAt(bytes, 0, limits).value;
}

/** Reads the pickle starting at `offset`; `end` is the offset after its STOP (files may hold several in a row). */
export function readPickleAt(bytes: Uint8Array, offset: number, limits: PickleLimits = DEFAULT_PICKLE_LIMITS): { value: PyValue; end: number } {
  if (bytes.length > limits.maxBytes) {
    throw new PickleError(`pickle of ${bytes.length} bytes exceeds the ${limits.maxBytes}-byte cap`, 0);
  }
  const machine = new Machine(bytes, limits, offset);
  const value = machine.run();
  return { value, end: machine.offset };
}

// --- internal ---

const MARK: unique symbol = Symbol('mark');
type Slot = PyValue | typeof MARK;

class Machine extends Cursor {
  private stack: Slot[] = [];
  private marks: number[] = [];
  private memo = new Map<number, PyValue>();
  private readonly limits: PickleLimits;

  constructor(bytes: Uint8Array, limits: PickleLimits, start: number) {
    super(bytes, start);
    this.limits = limits;
  }

  run(): PyValue {
    for (let count = 0; count < this.limits.maxOps; count++) {
      this.op = this.pos;
      if (this.pos >= this.bytes.length) {
        throw new PickleError('truncated pickle (no STOP)', this.pos);
      }
      const code = this.bytes[this.pos++] as number;
      const name = OPCODES[code];
      if (name === undefined) {
        throw new PickleError(`unsupported opcode 0x${code.toString(16).padStart(2, '0')}`, this.op);
      }
      this.opName = name;
      if (name === 'STOP') {
        return this.pop();
      }
      this.step(name);
    }
    throw new PickleError(`more than ${this.limits.maxOps} opcodes`, this.pos);
  }

  private step(name: string): void {
    const scalar = this.scalar(name);
    if (scalar !== NOT_SCALAR) {
      this.push(scalar);
      return;
    }
    switch (name) {
      case 'PROTO':
        this.take(1);
        return;
      case 'FRAME':
        this.take(8);
        return;
      case 'MARK':
        this.marks.push(this.stack.length);
        return;
      case 'POP':
        this.pop();
        return;
      case 'POP_MARK':
        this.popMark();
        return;
      case 'DUP':
        this.push(this.peek());
        return;
      case 'EMPTY_LIST':
        this.push({ kind: 'list', items: [] });
        return;
      case 'EMPTY_TUPLE':
        this.push({ kind: 'tuple', items: [] });
        return;
      case 'EMPTY_DICT':
        this.push({ kind: 'dict', entries: [] });
        return;
      case 'EMPTY_SET':
        this.push({ kind: 'set', items: [] });
        return;
      case 'LIST':
        this.push({ kind: 'list', items: this.popMark() });
        return;
      case 'TUPLE':
        this.push({ kind: 'tuple', items: this.popMark() });
        return;
      case 'FROZENSET':
        this.push({ kind: 'set', items: this.popMark() });
        return;
      case 'TUPLE1':
        this.push({ kind: 'tuple', items: this.popN(1) });
        return;
      case 'TUPLE2':
        this.push({ kind: 'tuple', items: this.popN(2) });
        return;
      case 'TUPLE3':
        this.push({ kind: 'tuple', items: this.popN(3) });
        return;
      case 'DICT':
        this.push({ kind: 'dict', entries: pairs(this.popMark()) });
        return;
      case 'APPEND':
        this.append(this.popN(1));
        return;
      case 'APPENDS':
      case 'ADDITEMS':
        this.append(this.popMark());
        return;
      case 'SETITEM':
        this.setItems(pairs(this.popN(2)));
        return;
      case 'SETITEMS':
        this.setItems(pairs(this.popMark()));
        return;
      case 'GLOBAL':
        this.push({ kind: 'global', name: `${this.line()}.${this.line()}` });
        return;
      case 'STACK_GLOBAL':
        this.stackGlobal();
        return;
      case 'REDUCE':
        this.construct(false);
        return;
      case 'NEWOBJ':
        this.construct(true);
        return;
      case 'NEWOBJ_EX':
        this.pop();
        this.construct(true);
        return;
      case 'BUILD':
        this.build();
        return;
      case 'PERSID':
        this.line();
        this.push({ kind: 'persistent' });
        return;
      case 'BINPERSID':
        this.pop();
        this.push({ kind: 'persistent' });
        return;
      case 'PUT':
        this.memo.set(this.memoKey(this.line()), this.peek());
        return;
      case 'BINPUT':
        this.memo.set(this.view.getUint8(this.advance(1)), this.peek());
        return;
      case 'LONG_BINPUT':
        this.memo.set(this.view.getUint32(this.advance(4), true), this.peek());
        return;
      case 'MEMOIZE':
        this.memo.set(this.memo.size, this.peek());
        return;
      case 'GET':
        this.push(this.recall(this.memoKey(this.line())));
        return;
      case 'BINGET':
        this.push(this.recall(this.view.getUint8(this.advance(1))));
        return;
      case 'LONG_BINGET':
        this.push(this.recall(this.view.getUint32(this.advance(4), true)));
        return;
      default:
        throw this.error('unsupported opcode');
    }
  }

  private memoKey(text: string): number {
    const key = Number(text);
    if (!Number.isSafeInteger(key)) {
      throw this.error(`bad memo key ${text.slice(0, 40)}`);
    }
    return key;
  }

  private recall(key: number): PyValue {
    if (!this.memo.has(key)) {
      throw this.error(`memo key ${key} was never stored`);
    }
    return this.memo.get(key) as PyValue;
  }

  private push(value: PyValue): void {
    this.stack.push(value);
  }

  private peek(): PyValue {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined || top === MARK || this.stack.length <= (this.marks.at(-1) ?? -1)) {
      throw this.error('stack is empty');
    }
    return top;
  }

  private pop(): PyValue {
    const value = this.peek();
    this.stack.pop();
    return value;
  }

  private popN(n: number): PyValue[] {
    const floor = this.marks.at(-1) ?? 0;
    if (this.stack.length - n < floor) {
      throw this.error(`needs ${n} value(s) on the stack`);
    }
    return this.stack.splice(this.stack.length - n, n) as PyValue[];
  }

  private popMark(): PyValue[] {
    const mark = this.marks.pop();
    if (mark === undefined) {
      throw this.error('no MARK on the stack');
    }
    return this.stack.splice(mark) as PyValue[];
  }

  private append(items: PyValue[]): void {
    const target = this.peek();
    if (typeof target === 'object' && target !== null && (target.kind === 'list' || target.kind === 'set' || target.kind === 'object')) {
      target.items.push(...items);
      return;
    }
    throw this.error('target is not a list');
  }

  private setItems(entries: [PyValue, PyValue][]): void {
    const target = this.peek();
    if (typeof target === 'object' && target !== null && (target.kind === 'dict' || target.kind === 'object')) {
      target.entries.push(...entries);
      return;
    }
    throw this.error('target is not a dict');
  }

  private stackGlobal(): void {
    const [module, name] = this.popN(2);
    if (typeof module !== 'string' || typeof name !== 'string') {
      throw this.error('module and name must be strings');
    }
    this.push({ kind: 'global', name: `${module}.${name}` });
  }

  /** REDUCE / NEWOBJ: records what would have been called, and with what; calls nothing. */
  private construct(newobj: boolean): void {
    const [callable, args] = this.popN(2);
    const argItems = typeof args === 'object' && args !== null && args.kind === 'tuple' ? args.items : [];
    const cls = typeof callable === 'object' && callable !== null && callable.kind === 'global' ? callable.name : '?';
    this.push({ kind: 'object', cls, args: argItems, newobj, state: null, items: [], entries: [] });
  }

  private build(): void {
    const [state] = this.popN(1);
    const target = this.peek();
    if (typeof target !== 'object' || target === null || target.kind !== 'object') {
      throw this.error('target is not an object');
    }
    target.state = state ?? null;
  }
}

function pairs(items: PyValue[]): [PyValue, PyValue][] {
  const out: [PyValue, PyValue][] = [];
  for (let i = 0; i + 1 < items.length; i += 2) {
    out.push([items[i] as PyValue, items[i + 1] as PyValue]);
  }
  return out;
}
