import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseFlatYaml } from '../../../src/text/flat-yaml.ts';

const REAL = path.resolve(import.meta.dirname, '../../../../shared/samples/real');

/** What the full parser says: its value, or 'error'. */
function full(text: string): unknown {
  try {
    return { value: parseYaml(text) as unknown };
  } catch {
    return 'error';
  }
}

const KEYS = ['lora_rank', 'base_model', 'train_data_dir', 'tags', 'a', 'b-c', '_x', 'null', 'True', 'yes', '__proto__', '1key', 'a.b', '"q"', '? k'];
const SCALARS = [
  '',
  '~',
  'null',
  'Null',
  'NULL',
  'nULL',
  'true',
  'True',
  'TRUE',
  'tRUE',
  'false',
  'yes',
  'no',
  'on',
  'off',
  'y',
  '0',
  '-0',
  '+0',
  '007',
  '12',
  '-3',
  '+5',
  '0o17',
  '0o8',
  '0x1F',
  '0X1F',
  '0xg',
  '1e5',
  '1E-4',
  '-1.5e+3',
  '.5',
  '5.',
  '+.5',
  '1.0',
  '1.50',
  '2e',
  '1_000',
  '9007199254740993',
  '.inf',
  '-.Inf',
  '+.INF',
  '.nan',
  '.NaN',
  'nan',
  'inf',
  '.',
  '-',
  '--',
  '-a',
  '+',
  '~/data',
  './data/set_1',
  'a, b',
  'a,b',
  'a  b',
  'a b',
  '"x"',
  '"a # b"',
  '"a\\"b"',
  '"a\\nb"',
  "'x'",
  "'it''s'",
  "'a # b'",
  '"水墨 山水"',
  '水墨',
  'a: b',
  'a:b',
  'a #c',
  'a#c',
  '#c',
  '&a x',
  '*a',
  '!!str 1',
  '|',
  '>',
  '@x',
  '`x`',
  '%x',
  '[a, b]',
  '[]',
  '[ ]',
  '[a,b]',
  '["a", \'b\']',
  '[1, 2.5, true, null, ~]',
  '[a, [b]]',
  '[a,]',
  '[a b]',
  '["a,b"]',
  '{a: 1}',
  '[a',
  'a]',
];

const line = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...KEYS),
        fc.constantFrom(':', ': ', ':  ', ' :'),
        fc.oneof(fc.constantFrom(...SCALARS), fc.string({ maxLength: 8 })),
        fc.constantFrom('', ' ', ' # note', '#x', '  '),
      )
      .map(([k, c, v, t]) => `${k}${c}${v}${t}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('', '# comment', '  # indented comment', '---', '...', '  nested: 1', '- item', '\tkey: 1', 'key: 1\r') },
);
const VALID_KEYS = ['lora_rank', 'base_model', 'train_data_dir', 'tags', 'a', 'b-c', '_x', 'yes', 'k9'];
/** Documents that are mostly well-formed (unique keys, `key: value`), so the fast path is exercised on every scalar rule. */
const flatDoc = fc
  .uniqueArray(fc.constantFrom(...VALID_KEYS), { maxLength: 6 })
  .chain((keys) => fc.tuple(...keys.map((k) => fc.tuple(fc.constant(k), fc.constantFrom(...SCALARS), fc.constantFrom('', ' # note', '   ')))))
  .map((pairs) => pairs.map(([k, v, t]) => `${k}: ${v}${t}`).join('\n'));
const doc = fc.oneof(
  flatDoc,
  fc.array(line, { maxLength: 8 }).map((lines) => lines.join('\n')),
);

describe('parseFlatYaml', () => {
  it('returns exactly what yaml returns, or null to fall back, on random flat documents', () => {
    let accepted = 0;
    fc.assert(
      fc.property(doc, fc.boolean(), (text, trailingNewline) => {
        const input = trailingNewline ? `${text}\n` : text;
        const fast = parseFlatYaml(input);
        if (fast !== null) {
          accepted += 1;
          expect(full(input)).toEqual({ value: fast });
        }
      }),
      { numRuns: 5000 },
    );
    // The fast path must really be taken, or this test proves nothing.
    expect(accepted).toBeGreaterThan(500);
  });

  it('takes the fast path on the article format and agrees with yaml', () => {
    const text =
      'train_data_dir: "./data/set_0"\nbase_model: "./models/Stable-diffusion/v1-5-pruned.safetensors"\nlora_rank: 4\nbatch_size: 4\nepochs: 10\nlearning_rate: 0.0001\noutput_dir: "./output/run_0"\nsave_steps: 100\nprompt_example: "cyberpunk city at night, neon rain"\ntags: [style, t0]\n';
    expect(parseFlatYaml(text)).toEqual(parseYaml(text));
    expect(parseFlatYaml(text)).toMatchObject({ lora_rank: 4, learning_rate: 0.0001, tags: ['style', 't0'] });
  });

  it('agrees with yaml on every real YAML sample it accepts', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = path.join(dir, name);
        if (statSync(p).isDirectory()) {
          walk(p);
        } else if (/\.ya?ml$/.test(name)) {
          files.push(p);
        }
      }
    };
    walk(REAL);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
      const fast = parseFlatYaml(text);
      if (fast !== null) {
        expect(full(text), file).toEqual({ value: fast });
      }
    }
  });

  it('falls back on what it does not handle: nesting, anchors, escapes, duplicate keys, empty documents', () => {
    for (const text of ['a:\n  b: 1\n', 'a: &x 1\nb: *x\n', 'a: "x\\ty"\n', 'a: 1\na: 2\n', '', '# only a comment\n', 'a: [b, [c]]\n', 'a: 水墨\n']) {
      expect(parseFlatYaml(text), JSON.stringify(text)).toBeNull();
    }
  });
});
