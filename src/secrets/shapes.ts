import { isSecretKey } from './keys.ts';

export const REDACTED = '[REDACTED]';

/** Token formats that are secrets wherever they appear, whatever key they sit under. */
const TOKEN_SHAPES: RegExp[] = [
  /(?<![A-Za-z0-9])hf_[A-Za-z0-9]{20,}/g, // Hugging Face
  /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g, // AWS access key id
  /(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{20,}/g, // OpenAI-style
  /(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g, // GitHub
  /(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}/g, // Slack
  /(?<![A-Za-z0-9])glpat-[A-Za-z0-9_-]{20,}/g, // GitLab
  /\b[a-f0-9]{40}\b(?=.*wandb)|(?<=wandb.*)\b[a-f0-9]{40}\b/gi, // wandb keys are 40 hex; only when wandb is named on the same line (`wandb login <key>`, `<key> # wandb`)
];

/** A private key block, also with `\n` escapes inside a JSON string; an unterminated one runs to the end. */
const PEM_PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)/g;

/** `Bearer <token>` in headers, logs and values. */
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{6,}/gi;

/**
 * `scheme://user:password@host`: the password runs to the LAST `@` that is followed by a host, so passwords
 * holding `/` or `@` (`https://u:p@ss/w0rd@host/x`) are masked whole.
 */
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/[^\s:@/"'<>`]*:)([^\s"'<>`]*)@(?=[A-Za-z0-9.\-[\]]+(?:[:/?#\s"'<>`,;)}\]]|$))/gi;

/** `name: value`, `name=value`, `"name": "value"` and `--name value` in free text (logs, notes, prompts). */
const KEY_BEFORE_VALUE = /(?<![A-Za-z0-9_.-])(--)?([A-Za-z][A-Za-z0-9_.-]*)(["']?)(\s*[:=]\s*|\s+)/g;

/** Values that say "no secret here". */
const PLACEHOLDER = /^(?:null|None|none|~|\?+|true|false|\[REDACTED\]|\*+|<[^>]*>|\$\{[^}]*\}|\{|\[|\||>-?|>|\|-)$/;

/** The literal parts of the rules (a text without one cannot match the rule; the PEM block has `--`, a URL `:`). */
const KEY_SEPARATOR = /[:=]|--/;
const TOKEN_PREFIX = /hf_|AKIA|ASIA|sk-|gh[pousr]_|github_pat_|xox[abposr]-|glpat-/;
const MENTIONS_BEARER = /bearer/i;
const MENTIONS_WANDB = /wandb/i;

/** Any of them: most strings of a record have none and skip every pattern. */
const MAY_HOLD_SECRET = new RegExp([KEY_SEPARATOR, TOKEN_PREFIX, MENTIONS_BEARER, MENTIONS_WANDB].map((r) => r.source).join('|'), 'i');

/** Times, dates and numbers (`2025-03-02T14:03:11.250Z`, `1e-4`): a `:` but no word any rule could match. */
const TIME_OR_NUMBER = /^[0-9T:.+\-Z eE]*$/;

/** Redacts secrets in free text: private keys, bearer tokens, URL passwords, token shapes and secret `key=value` pairs. */
export function redactString(value: string): string {
  if (!MAY_HOLD_SECRET.test(value) || TIME_OR_NUMBER.test(value)) {
    return value;
  }
  // Each rule runs only when the text holds what it cannot match without (its literal part): most texts have few of them.
  let out = value.includes('PRIVATE KEY') ? value.replace(PEM_PRIVATE_KEY, REDACTED) : value;
  if (out.includes('://') && out.includes('@')) {
    out = out.replace(URL_USERINFO, `$1${REDACTED}@`);
  }
  if (MENTIONS_BEARER.test(out)) {
    out = out.replace(BEARER, `$1${REDACTED}`);
  }
  if (TOKEN_PREFIX.test(out) || MENTIONS_WANDB.test(out)) {
    for (const pattern of TOKEN_SHAPES) {
      out = out.replace(pattern, REDACTED);
    }
  }
  return KEY_SEPARATOR.test(out) ? redactKeyValues(out) : out;
}

/** Masks the password of every URL in a line the CLI prints (`http://elastic:[REDACTED]@host:9200`). */
export function maskUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, `$1${REDACTED}@`);
}

/** Whether any `name: …` / `name = …` / `--name …` in the text names a secret, whatever its value (placeholders, block scalars). */
export function mentionsSecretKey(text: string): boolean {
  for (const m of text.matchAll(KEY_BEFORE_VALUE)) {
    const [, dashes, name = '', , sep = ''] = m;
    if ((/[:=]/.test(sep) || dashes !== undefined) && isSecretKey(name)) {
      return true;
    }
  }
  return false;
}

// --- internal ---

function redactKeyValues(text: string): string {
  const spans: [number, number][] = [];
  for (const m of text.matchAll(KEY_BEFORE_VALUE)) {
    const [whole, dashes, name = '', , sep = ''] = m;
    if ((!/[:=]/.test(sep) && dashes === undefined) || !isSecretKey(name)) {
      continue;
    }
    const span = valueSpan(text, m.index + whole.length);
    if (span !== null) {
      spans.push(span);
    }
  }
  let out = text;
  for (const [start, end] of spans.reverse()) {
    out = out.slice(0, start) + REDACTED + out.slice(end);
  }
  return out;
}

/** The value after a secret key: a (TOML triple-)quoted string, else a word (two words for `Bearer x` / `Basic x`). */
function valueSpan(text: string, start: number): [number, number] | null {
  const triple = text.slice(start, start + 3);
  if (triple === '"""' || triple === "'''") {
    const end = text.indexOf(triple, start + 3);
    return end > start + 3 ? [start + 3, end] : null;
  }
  const quote = text[start];
  if (quote === '"' || quote === "'") {
    let i = start + 1;
    while (i < text.length && text[i] !== quote && text[i] !== '\n') {
      i += text[i] === '\\' ? 2 : 1;
    }
    return i > start + 1 && !PLACEHOLDER.test(text.slice(start + 1, i)) ? [start + 1, Math.min(i, text.length)] : null;
  }
  const word = /^(?:(?:Bearer|Basic|Token)\s+)?[^\s"'`,;{}[\]]+/i.exec(text.slice(start, start + 4096));
  if (word === null || PLACEHOLDER.test(word[0]) || word[0].startsWith(REDACTED) || /^(?:Bearer|Basic)\s+\[REDACTED\]/i.test(word[0])) {
    return null;
  }
  return [start, start + word[0].length];
}
