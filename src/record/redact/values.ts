import { isSecretKey } from '../../secrets/keys.ts';
import { REDACTED, redactString } from '../../secrets/shapes.ts';

/** Shorter secrets are not scrubbed from unrelated text: `pass: abc` must not blank every "abc" in a record. */
export const MIN_SCRUB_LENGTH = 6;

/** A plain word under a secret key (`session: default`, `auth: bearer`) is not scrubbed everywhere else. */
const PLAIN_WORD = /^[A-Za-z][a-z]*$/;

/** A redacted copy and the secret strings that were taken out (for scrubbing copies elsewhere). */
export interface Redacted<T> {
  value: T;
  secrets: Set<string>;
  /** Whether anything was replaced (a redacted value may equal what it replaced: an already-masked one). */
  changed: boolean;
}

/**
 * `value` with secrets redacted by key name and by value shape, copied where something changed: an
 * object or list none of whose values changed is returned as it is. Empty secret values stay empty.
 */
export function redactValues<T>(value: T): T {
  return redactCollect(value).value;
}

/**
 * Like `redactValues`, also returning what was removed. Under a secret key every scalar is redacted, also inside
 * objects and lists (`credentials: {user: …, pass: …}`), numbers included; booleans and empty values stay.
 */
export function redactCollect<T>(value: T): Redacted<T> {
  const state: RedactState = { secrets: new Set<string>(), changed: false };
  const redacted = redactNode(value, false, state) as T;
  return { value: redacted, secrets: state.secrets, changed: state.changed };
}

/** Replaces every known secret string (of at least MIN_SCRUB_LENGTH characters) in every string of `value`. */
export function scrubSecrets<T>(value: T, secrets: ReadonlySet<string>): T {
  const list = [...secrets].filter(isScrubbable).sort((a, b) => b.length - a.length);
  if (list.length === 0) {
    return value;
  }
  return scrubNode(value, list) as T;
}

/** Replaces known secrets in one string. */
export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) {
      out = out.split(secret).join(REDACTED);
    }
  }
  return out;
}

// --- internal ---

interface RedactState {
  secrets: Set<string>;
  changed: boolean;
}

function redactNode(value: unknown, underSecret: boolean, state: RedactState): unknown {
  if (underSecret && (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') && value !== '') {
    if (String(value) !== REDACTED) {
      state.secrets.add(String(value));
      state.changed = true;
    }
    return REDACTED;
  }
  if (typeof value === 'string') {
    const out = redactString(value);
    if (out !== value) {
      state.changed = true;
      collectRemoved(value, out, state.secrets);
    }
    return out;
  }
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const redacted = redactNode(item, underSecret, state);
      if (redacted !== item) {
        out ??= value.slice();
        out[i] = redacted;
      }
    }
    return out ?? value;
  }
  if (value !== null && typeof value === 'object' && isPlainObject(value)) {
    let out: Record<string, unknown> | null = null;
    for (const k in value) {
      const v: unknown = (value as Record<string, unknown>)[k];
      const redacted = redactNode(v, underSecret || isSecretKey(k), state);
      if (redacted !== v) {
        out ??= { ...(value as Record<string, unknown>) };
        out[k] = redacted;
      }
    }
    return out ?? value;
  }
  return value;
}

/** The parts of `before` that `redactString` replaced (giving `after`), added to `secrets` for scrubbing copies. */
export function collectRemoved(before: string, after: string, secrets: Set<string>): void {
  const pieces = after.split(REDACTED);
  let at = 0;
  for (let i = 0; i < pieces.length - 1; i++) {
    const head = pieces[i] ?? '';
    const found = before.indexOf(head, at);
    if (found < 0) {
      return;
    }
    const start = found + head.length;
    const next = pieces[i + 1] ?? '';
    const end = next === '' && i + 1 === pieces.length - 1 ? before.length : before.indexOf(next, start);
    if (end > start) {
      secrets.add(before.slice(start, end));
      at = end;
    }
  }
}

function isScrubbable(secret: string): boolean {
  return secret.length >= MIN_SCRUB_LENGTH && !PLAIN_WORD.test(secret);
}

function scrubNode(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') {
    return scrubText(value, secrets);
  }
  if (Array.isArray(value)) {
    return value.map((item) => scrubNode(item, secrets));
  }
  if (value !== null && typeof value === 'object' && isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubNode(v, secrets)]));
  }
  return value;
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
