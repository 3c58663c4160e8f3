/** Segments that make any key a secret wherever they sit (`db_password`, `client_secret_id`, `x-api-key` via apikey). */
const SECRET_ANYWHERE = new Set([
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'secrets',
  'apikey',
  'credential',
  'credentials',
  'authorization',
  'cookie',
  'cookies',
]);

/** Segments that make a key a secret only as its last word: `db_pass`, `basic_auth`, `hub_token` — not `auth_type` or `session_id`. */
const SECRET_LAST = new Set(['token', 'pass', 'auth', 'session', 'dsn']);

/** `<qualifier>_key` pairs that name a secret (`api_key`, `private_key`, `wandb_key`); a bare `key` is not one. */
const KEY_QUALIFIERS = new Set([
  'api',
  'access',
  'private',
  'secret',
  'ssh',
  'signing',
  'encryption',
  'client',
  'master',
  'wandb',
  'hf',
  'openai',
  'account',
  'storage',
  'license',
  'session',
]);

/** Words before `token` that make it a vocabulary or budget hyperparameter (`pad_token`, `max_token`), not a secret. */
const TOKEN_HYPERPARAMETER = new Set([
  'pad',
  'eos',
  'bos',
  'unk',
  'sep',
  'cls',
  'mask',
  'special',
  'max',
  'min',
  'num',
  'total',
  'keep',
  'class',
  'extra',
  'new',
  'start',
  'end',
  'image',
  'vision',
  'video',
  'audio',
  'bot',
  'eot',
  'user',
  'assistant',
  'system',
  'default',
  'placeholder',
  'trigger',
  'init',
]);

/**
 * Whether a key names a secret, judged on its words: snake, kebab, dotted and camelCase keys are split into
 * lowercase segments, so `passes` or `bypass_cache` are not secrets while `db_pass` and `hubToken` are.
 */
export function isSecretKey(key: string): boolean {
  let verdict = verdicts.get(key);
  if (verdict === undefined) {
    verdict = judgeKey(key);
    // Keys repeat across runs (the same config keys in every run): remembered, within a bound.
    if (verdicts.size >= MAX_REMEMBERED_KEYS) {
      verdicts.clear();
    }
    verdicts.set(key, verdict);
  }
  return verdict;
}

const MAX_REMEMBERED_KEYS = 10_000;
const verdicts = new Map<string, boolean>();

function judgeKey(key: string): boolean {
  const words = keyWords(key);
  const last = words.at(-1);
  if (last === undefined) {
    return false;
  }
  if (words.some((w) => SECRET_ANYWHERE.has(w))) {
    return true;
  }
  for (let i = 1; i < words.length; i++) {
    if (words[i] === 'key' && KEY_QUALIFIERS.has(words[i - 1] ?? '')) {
      return true;
    }
  }
  if (last === 'token') {
    return !TOKEN_HYPERPARAMETER.has(words.at(-2) ?? '');
  }
  return SECRET_LAST.has(last);
}

/** Lowercase words of a key, digits dropped: `hubToken` → hub, token; `X-Api-Key` → x, api, key; `hf_token2` → hf, token. */
export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((w) => w !== '');
}
