/** Key names whose values are secrets, whatever the value looks like (`hub_token`, `wandb_api_key`, `aws_secret_access_key`, `password`…). */
const SECRET_KEY = /api[_-]?key|apikey|secret|passw(or)?d|passwd|private[_-]?key|access[_-]?key([_-]?id)?$|credential|(^|[_.-])(auth|hub|hf|access|refresh|session|bearer|api|wandb|swanlab)?[_.-]?token$/i;

/** Keys that contain "token" but are training hyperparameters, not secrets. */
const TOKEN_HYPERPARAMETER = /(keep|max|num|total|class|pad|eos|bos|unk|min|special)[_-]?tokens?|tokens?[_-]?(length|seen|warmup|separator|per|count)|tokeniz/i;
/** Value shapes that are secrets wherever they appear. */
const SECRET_VALUE_PATTERNS: RegExp[] = [
  /\bhf_[A-Za-z0-9]{30,}\b/g, // Hugging Face token
  /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, // AWS access key id
  /\bsk-[A-Za-z0-9_-]{20,}\b/g, // OpenAI-style keys
  /\bghp_[A-Za-z0-9]{36}\b/g, // GitHub PAT
  /\bxox[abpr]-[A-Za-z0-9-]{10,}\b/g, // Slack
  /\b[a-f0-9]{40}\b(?=.*wandb)/gi, // wandb keys are 40 hex; only when wandb is named nearby
];

/** user:password@ in URLs. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]+:)([^@/\s]+)(@)/gi;

export const REDACTED = '[REDACTED]';

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !TOKEN_HYPERPARAMETER.test(key);
}

/** Redacts secret-looking substrings (token shapes, URL passwords) in free text. */
export function redactString(value: string): string {
  let out = value.replace(URL_PASSWORD, `$1${REDACTED}$3`);
  for (const pattern of SECRET_VALUE_PATTERNS) {
    out = out.replace(pattern, REDACTED);
  }
  return out;
}

/** Deep copy of `value` with secrets redacted by key name and by value shape. Empty secret values stay empty. */
export function redactValues<T>(value: T): T {
  return redactNode(value, undefined) as T;
}

/**
 * Redacts a config file's text: `key: value` / `key = value` / `"key": value` lines whose key is a secret,
 * then value shapes anywhere. Works for YAML, TOML and JSON without re-serialising (keeps comments and layout).
 */
export function redactConfigText(text: string): string {
  const lines = text.split(/(?<=\n)/);
  const out = lines.map((line) => {
    const m = /^(\s*-?\s*["']?)([A-Za-z0-9_.-]+)(["']?\s*[:=]\s*)(.*?)(\s*,?\s*(?:#.*)?\r?\n?)$/.exec(line);
    if (m && isSecretKey(m[2] ?? '') && !/^(["']{2}|null|None|~|)$/.test((m[4] ?? '').trim())) {
      const quote = /^["']/.test(m[4] ?? '') ? (m[4] ?? '')[0] : '';
      return `${m[1]}${m[2]}${m[3]}${quote}${REDACTED}${quote}${m[5]}`;
    }
    return line;
  });
  return redactString(out.join(''));
}

// --- internal ---

function redactNode(value: unknown, key: string | undefined): unknown {
  if (key !== undefined && isSecretKey(key) && value !== null && value !== '' && typeof value !== 'object' && typeof value !== 'boolean') {
    return REDACTED;
  }
  if (typeof value === 'string') {
    return redactString(value);
  }
  if (Array.isArray(value)) {
    return value.map((item) => redactNode(item, undefined));
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = redactNode(v, k);
    }
    return out;
  }
  return value;
}
