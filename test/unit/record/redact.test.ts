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
});
