import { describe, expect, it } from 'vitest';
import { isSecretKey, REDACTED, redactConfigText, redactString, redactValues } from '../../../src/record/redact.ts';

describe('record/redact', () => {
  it.each([
    ['hub_token', true],
    ['hf_token', true],
    ['wandb_api_key', true],
    ['swanlab_api_key', true],
    ['aws_secret_access_key', true],
    ['aws_access_key_id', true],
    ['password', true],
    ['db_password', true],
    ['token', true],
    ['keep_tokens', false],
    ['max_token_length', false],
    ['num_input_tokens_seen', false],
    ['token_warmup_step', false],
    ['tokenizer_name', false],
    ['class_tokens', false],
    ['learning_rate', false],
  ])('isSecretKey(%s) = %s', (key, expected) => {
    expect(isSecretKey(key)).toBe(expected);
  });

  it('redacts by key name and by value shape, deeply, leaving empty values alone', () => {
    const input = {
      hub_token: 'hf_abcdefghijklmnopqrstuvwxyzABCDEFGH',
      wandb_api_key: '',
      nested: { password: 'hunter2', note: 'push with hf_abcdefghijklmnopqrstuvwxyzABCDEFGH please' },
      list: ['AKIAABCDEFGHIJKLMNOP'],
      dataset_url: 'https://user:s3cr3t@example.com/data.tar',
      keep_tokens: 2,
    };

    const out = redactValues(input);

    expect(out).toEqual({
      hub_token: REDACTED,
      wandb_api_key: '',
      nested: { password: REDACTED, note: `push with ${REDACTED} please` },
      list: [REDACTED],
      dataset_url: `https://user:${REDACTED}@example.com/data.tar`,
      keep_tokens: 2,
    });
  });

  it('redacts config text in YAML, TOML and JSON without touching layout', () => {
    const yaml = 'lora_rank: 8\nhub_token: "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"  # mine\nswanlab_api_key:\n';
    const toml = "wandb_api_key = 'abc123'\nnetwork_dim = 16\n";
    const json = '{\n  "hub_token": "secret-value",\n  "r": 8\n}';

    expect(redactConfigText(yaml, 'yaml').text).toBe(`lora_rank: 8\nhub_token: "${REDACTED}"  # mine\nswanlab_api_key:\n`);
    expect(redactConfigText(toml, 'toml').text).toBe(`wandb_api_key = '${REDACTED}'\nnetwork_dim = 16\n`);
    expect(redactConfigText(json, 'json').text).toBe(`{\n  "hub_token": "${REDACTED}",\n  "r": 8\n}`);
    expect(redactString('ghp_abcdefghijklmnopqrstuvwxyz0123456789')).toBe(REDACTED);
  });

  it('keeps a config without secrets as it is, and never takes that shortcut past a secret-named key', () => {
    const clean = 'lora_rank: 8  # comment\ntags: [style, t5]\nprompt: "水墨山水"\n';
    expect(redactConfigText(clean, 'yaml')).toMatchObject({ text: clean, method: 'original' });
    // The value that counts is empty, so the parsed values hold nothing to hide; the text still does.
    const shadowed = 'hf_token: |\n  qwertyuiop123\nhf_token: ""\nlora_rank: 8\n';
    const kept = redactConfigText(shadowed, 'yaml');
    expect(kept.text).not.toContain('qwertyuiop123');
    expect(kept.method).not.toBe('original');
    const block = 'password: |\n  hunter2hunter2\n';
    expect(redactConfigText(block, 'yaml').text).not.toContain('hunter2');
    const commented = 'lora_rank: 8\n# token from ghp_abcdefghijklmnopqrstuvwxyz0123456789\n';
    expect(redactConfigText(commented, 'yaml').text).not.toContain('ghp_');
  });
});

describe('record/redact token shapes in free text', () => {
  it.each([
    [
      'a wandb key (40 hex) where wandb is named',
      'run `wandb login 0123456789abcdef0123456789abcdef01234567` first',
      '0123456789abcdef0123456789abcdef01234567',
    ],
    ['a Hugging Face token', 'pushed with hf_abcdefghijklmnopqrstuvwxyz123456', 'hf_abcdefghijklmnopqrstuvwxyz123456'],
    ['a bearer token', 'curl -H "Authorization: Bearer abc.def-123456"', 'abc.def-123456'],
    ['a URL password', 'mirror https://user:s3cr3t-pass@example.org/x', 's3cr3t-pass'],
    ['a private key', 'key -----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY----- end', 'MIIabc'],
  ])('%s', (_name, text, secret) => {
    const out = redactString(text);
    expect(out).toContain(REDACTED);
    expect(out).not.toContain(secret);
  });
});
