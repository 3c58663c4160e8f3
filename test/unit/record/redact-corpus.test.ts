import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { parseTolerantJson } from '../../../src/text/tolerant-json.ts';
import { parseTomlText } from '../../../src/formats/kohya/config.ts';
import { Yaml as YamlText } from '../../../src/text/yaml.ts';
import { isSecretKey, maskUrlCredentials, redactCollect, redactConfigText, redactString, scrubSecrets } from '../../../src/record/redact.ts';
import { crawl } from '../../helpers/crawl.ts';
import { tempTrees } from '../../helpers/temp-tree.ts';
import {
  allSecrets,
  BROKEN_JSON,
  jsonCorpus,
  JSON_ENTRIES,
  LOG_LINES,
  NOT_SECRETS,
  secretRunTree,
  TOML_CASES,
  YAML_CASES,
  type SecretCase,
} from '../../fixtures/secrets/corpus.ts';

const { tree, cleanup } = tempTrees('secrets-');

afterEach(cleanup);

describe('record/redact (secret corpus)', () => {
  it.each(YAML_CASES.map((c) => [c.name, c] as const))('YAML %s: redacted in place, kept text and values hold no secret', (_name, c) => {
    const text = `lora_rank: 8\n${c.text}`;

    const kept = redactConfigText(text, 'yaml');

    expect(kept.method).toBe('in-place');
    expectClean(kept.text, c);
    expect(parseYaml(kept.text ?? '')).toMatchObject({ lora_rank: 8 });
    expectClean(JSON.stringify(scrubSecrets(redactCollect(parseYaml(text)).value, kept.secrets)), c);
  });

  it.each(TOML_CASES.map((c) => [c.name, c] as const))('TOML %s: redacted in place, kept text and values hold no secret', (_name, c) => {
    const text = `network_dim = 16\n${c.text}`;

    const kept = redactConfigText(text, 'toml');

    expect(kept.method).toBe('in-place');
    expectClean(kept.text, c);
    expect(parseToml(kept.text ?? '')).toMatchObject({ network_dim: 16 });
    expectClean(JSON.stringify(redactCollect(parseToml(text)).value), c);
  });

  it.each(JSON_ENTRIES.map((c) => [c.name, c] as const))('JSON %s: redacted in place, kept text and values hold no secret', (_name, c) => {
    const text = `{"r": 8, ${c.text}}`;

    const kept = redactConfigText(text, 'json');

    expect(kept.method).toBe('in-place');
    expectClean(kept.text, c);
    expect(JSON.parse(kept.text ?? '')).toMatchObject({ r: 8 });
    expectClean(JSON.stringify(redactCollect(JSON.parse(text)).value), c);
  });

  it('keeps layout and comments when redacting in place', () => {
    const text = '# my run\nlora_rank: 8  # rank\nhub: {hub_token: ZqYamlFlow01, repo: me/x}\nmlflow_tracking_token: >-\n  ZqYamlFolded02\nnext: 2\n';

    const kept = redactConfigText(text, 'yaml');

    expect(kept).toMatchObject({
      method: 'in-place',
      text: '# my run\nlora_rank: 8  # rank\nhub: {hub_token: "[REDACTED]", repo: me/x}\nmlflow_tracking_token: "[REDACTED]"\nnext: 2\n',
    });
  });

  it('re-writes from the redacted values when no in-place edit re-parses to them (an escaped quote ends the span early)', () => {
    const text = 'network_dim = 16\nhub_token = """ab\\"""ZqTomlEscaped77"""\n';

    const kept = redactConfigText(text, 'toml');

    expect(kept.method).toBe('reserialised');
    expect(parseToml(kept.text ?? '')).toEqual({ network_dim: 16, hub_token: '[REDACTED]' });
  });

  it('keeps no text for a config that does not parse', () => {
    expect(redactConfigText('a: [1\nhub_token: ZqBroken\n', 'yaml')).toMatchObject({ text: null, method: 'dropped' });
  });

  it('redacts the whole JSON corpus in one document', () => {
    const kept = redactConfigText(jsonCorpus(), 'json');

    expect(kept.method).toBe('in-place');
    expectClean(kept.text, { name: 'json', text: '', secrets: JSON_ENTRIES.flatMap((c) => c.secrets) });
  });

  it.each(LOG_LINES.map((c) => [c.name, c] as const))('log line %s: no secret', (_name, c) => {
    expectClean(redactString(c.text), c);
  });

  it.each(NOT_SECRETS.map((c) => [c.text, c] as const))('leaves %s alone', (_text, c) => {
    expect(c.key === undefined || isSecretKey(c.key)).toBe(c.key === undefined);
    expect(redactString(c.text)).toBe(c.text);
  });

  it('masks URL passwords holding / and @, keeping user and host', () => {
    expect(maskUrlCredentials('ES http://elastic:p@ss/w0rd@es.example:9200 ok')).toBe('ES http://elastic:[REDACTED]@es.example:9200 ok');
  });

  it('parser errors quote no file text: JSON, YAML, TOML', () => {
    const json = parseTolerantJson(BROKEN_JSON.text);
    const yaml = YamlText.safeParse('a: 1\nhub_token: "ZqUnquotedYaml\n  b: [');
    const toml = parseTomlText('a = 1\nhub_token = ZqUnquotedToml\n');

    expect(json).toEqual({ ok: false, message: 'invalid JSON at line 3 column 16' });
    expect(yaml.success).toBe(false);
    expect(yaml.error?.issues[0]?.message).not.toMatch(/Zq/);
    expect(yaml.error?.issues[0]?.message).toMatch(/line \d+ column \d+/);
    expect(toml).toEqual({ ok: false, message: 'invalid TOML at line 2 column 13' });
  });

  it('no secret reaches any record the readers build (YAML, TOML, JSON, logs, a JSON that does not parse)', async () => {
    const dir = await tree(secretRunTree());

    const records = await crawl(dir);

    expect(records.map((r) => `${r.source.path} ${r.format}`).sort()).toEqual([
      'hf-broken hf-peft',
      'hf-run hf-peft',
      'kohya-run kohya',
      'lf-run llama-factory',
      'yaml-run lora-scripts-yaml',
    ]);
    const json = JSON.stringify(records);
    expect(allSecrets().filter((s) => json.includes(s))).toEqual([]);
    for (const record of records) {
      expect(record.config.text, record.source.path).not.toBeNull();
    }
  });
});

function expectClean(text: string | null, c: SecretCase): void {
  expect(text).not.toBeNull();
  expect(c.secrets.filter((s) => (text ?? '').includes(s))).toEqual([]);
}
