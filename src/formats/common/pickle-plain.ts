import type { PyObject, PyValue } from './pickle.ts';

/** A JSON-compatible value. */
export type Plain = null | boolean | number | string | Plain[] | { [key: string]: Plain };

export interface PlainOptions {
  /** `module.qualname` → true when a REDUCE of that class with one argument is an enum member: its value is kept. */
  isEnum(cls: string): boolean;
}

/** Marker key of an object that was not interpreted (its class is named; nothing was imported or called). */
export const OPAQUE_KEY = '$python';

const SET_CLASSES = new Set(['builtins.set', 'builtins.frozenset', '__builtin__.set', '__builtin__.frozenset']);

/** Deeper nesting is not a config, and a cycle built through the memo would never end. */
const MAX_DEPTH = 64;

/** The memo can share one container many times (a DAG); the expansion is capped instead of exploding. */
const MAX_NODES = 100_000;

/**
 * Turns inert pickle values into plain data: numbers, strings, lists, string-keyed objects. Enum members become
 * their value, `OrderedDict`/`set` become objects/lists; any other object becomes `{ $python: 'module.Class' }`
 * (plus its scalar arguments). Throws when nesting is deeper than MAX_DEPTH or the expansion exceeds MAX_NODES.
 */
export function toPlain(value: PyValue, opts: PlainOptions): Plain {
  const budget = { nodes: 0 };
  return convert(value, opts, 0, budget);
}

/** The `__dict__` of an object pickled as NEWOBJ + BUILD (a dataclass such as TrainingArguments), as plain data. */
export function objectState(value: PyValue, opts: PlainOptions): { cls: string; state: Record<string, Plain> } | null {
  if (typeof value !== 'object' || value === null || value.kind !== 'object') {
    return null;
  }
  // BUILD may carry (dict_state, slot_state).
  const raw = isTuple(value.state) && value.state.items.length === 2 ? value.state.items[0] : value.state;
  const state = raw === null || raw === undefined ? null : toPlain(raw, opts);
  if (state === null || typeof state !== 'object' || Array.isArray(state)) {
    return null;
  }
  return { cls: value.cls, state };
}

// --- internal ---

function convert(value: PyValue, opts: PlainOptions, depth: number, budget: { nodes: number }): Plain {
  budget.nodes += 1;
  if (budget.nodes > MAX_NODES) {
    throw new Error(`more than ${MAX_NODES} values (shared references expanded)`);
  }
  if (depth > MAX_DEPTH) {
    throw new Error(`values nested deeper than ${MAX_DEPTH} levels (or a reference cycle)`);
  }
  if (value === null || typeof value === 'boolean' || typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : null;
  }
  if (typeof value === 'bigint') {
    return value.toString();
  }
  const next = (v: PyValue) => convert(v, opts, depth + 1, budget);
  switch (value.kind) {
    case 'list':
    case 'tuple':
    case 'set':
      return value.items.map(next);
    case 'dict':
      return entriesOf(value.entries, next);
    case 'global':
      return { [OPAQUE_KEY]: value.name };
    case 'bytes':
      return { [OPAQUE_KEY]: 'bytes', length: value.length };
    case 'persistent':
      return { [OPAQUE_KEY]: 'persistent-id' };
    case 'object':
      return objectOf(value, opts, next);
  }
}

function objectOf(value: PyObject, opts: PlainOptions, next: (v: PyValue) => Plain): Plain {
  const [first] = value.args;
  if (!value.newobj && value.args.length === 1 && value.state === null && opts.isEnum(value.cls)) {
    return next(first as PyValue);
  }
  if (value.cls === 'collections.OrderedDict') {
    return entriesOf(value.entries, next);
  }
  // Protocol 2 names the builtins module `__builtin__` (Python 2's name) for compatibility.
  if (SET_CLASSES.has(value.cls) && value.args.length <= 1) {
    return first === undefined ? [] : next(first);
  }
  const opaque: { [key: string]: Plain } = { [OPAQUE_KEY]: value.cls };
  const scalars = value.args.filter((a) => a === null || typeof a !== 'object');
  if (scalars.length > 0 && scalars.length === value.args.length) {
    opaque.args = scalars.map(next);
  }
  return opaque;
}

function entriesOf(entries: [PyValue, PyValue][], next: (v: PyValue) => Plain): { [key: string]: Plain } {
  const out: { [key: string]: Plain } = {};
  for (const [key, item] of entries) {
    if (key === null || typeof key !== 'object') {
      // A plain object; `__proto__` would otherwise set the prototype.
      Object.defineProperty(out, String(key), { value: next(item), enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

function isTuple(value: PyValue): value is { kind: 'tuple'; items: PyValue[] } {
  return typeof value === 'object' && value !== null && value.kind === 'tuple';
}
