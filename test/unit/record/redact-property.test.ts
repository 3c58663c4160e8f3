import fc from 'fast-check';
import { stringify as stringifyToml } from 'smol-toml';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { buildRecord } from '../../../src/record/build.ts';
import { toRunDoc } from '../../../src/sync/doc.ts';

/** Key names that mark their value as secret, in the spellings configs use. */
const SECRET_KEYS = [
  'hub_token',
  'hf_token',
  'wandb_api_key',
  'password',
  'db_pass',
  'Authorization',
  'apiKey',
  'private_key',
  'aws_secret_access_key',
  'mlflow_tracking_token',
  'X-Api-Key',
  'cookie',
  'client_secret',
];

/** Harmless keys, some close to secret words. */
const PLAIN_KEYS = ['lr', 'rank', 'passes', 'bypass_cache', 'keep_tokens', 'pad_token', 'name', 'path', 'hub', 'headers', 'tracker', 'session_id', 'epochs'];

/** A secret: a unique marker inside a shape (bare, hf_ token, URL password with / and @, Bearer, PEM body). */
const secret = fc.tuple(fc.stringMatching(/^[A-Za-z0-9]{6,10}$/), fc.nat({ max: 1e9 })).map(([s, n]) => `Zq${s}${n}`);

type Leaf =
  | { kind: 'secret-key'; key: string; value: string; marker: string }
  | { kind: 'shape'; value: string; marker: string }
  | { kind: 'plain'; value: string | number | boolean };

const shaped = secret.chain((marker) =>
  fc.constantFrom(
    { value: `hf_${marker}AbCdEfGhIjKlMnOpQr`, marker },
    { value: `https://user:${marker}/x@y@host.example/p`, marker },
    { value: `Bearer ${marker}`, marker },
    { value: `-----BEGIN RSA PRIVATE KEY-----\nMII${marker}\n-----END RSA PRIVATE KEY-----`, marker },
    { value: `run with --hub_token ${marker} now`, marker },
  ),
);

const leaf: fc.Arbitrary<Leaf> = fc.oneof(
  fc
    .record({ key: fc.constantFrom(...SECRET_KEYS), marker: secret })
    .chain(({ key, marker }) =>
      fc.constantFrom<Leaf>({ kind: 'secret-key', key, value: marker, marker }, { kind: 'secret-key', key, value: `pre ${marker}\nnext line`, marker }),
    ),
  shaped.map((s): Leaf => ({ kind: 'shape', ...s })),
  fc.oneof(fc.integer(), fc.boolean(), fc.stringMatching(/^[a-z ]{0,12}$/)).map((value): Leaf => ({ kind: 'plain', value })),
);

/** A config tree; secret-key leaves put their key on the parent map. Returns the object and its secret markers. */
const tree = fc.letrec<{ node: [unknown, string[]] }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.array(fc.tuple(fc.constantFrom(...PLAIN_KEYS), leaf), { minLength: 1, maxLength: 5 }).map(([...entries]) => buildMap(entries.map(([k, l]) => [k, l]))),
    fc.array(fc.tuple(fc.constantFrom(...PLAIN_KEYS), tie('node')), { minLength: 1, maxLength: 3 }).map((entries): [unknown, string[]] => {
      const obj: Record<string, unknown> = {};
      const markers: string[] = [];
      for (const [k, [v, m]] of entries) {
        obj[`k${Object.keys(obj).length}_${k}`] = v;
        markers.push(...m);
      }
      return [obj, markers];
    }),
  ),
})).node;

const yamlStyle = fc.record({
  collectionStyle: fc.constantFrom('any', 'block', 'flow'),
  defaultStringType: fc.constantFrom('PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE', 'BLOCK_LITERAL', 'BLOCK_FOLDED'),
  defaultKeyType: fc.constantFrom(null, 'PLAIN', 'QUOTE_DOUBLE'),
});

describe('record/redact (property)', () => {
  it('no secret in text, values, parse_warnings or the ES document, for any syntax position', () => {
    fc.assert(
      fc.property(tree, fc.constantFrom('yaml', 'toml', 'json'), yamlStyle, fc.nat({ max: 4 }), ([obj, markers], syntax, style, indent) => {
        const root = { network_dim: 8, nested: obj } as Record<string, unknown>;
        const text = syntax === 'yaml' ? stringifyYaml(root, style as never) : syntax === 'toml' ? stringifyToml(root) : JSON.stringify(root, null, indent);
        const values = (syntax === 'yaml' ? parseYaml(text) : syntax === 'toml' ? parseToml(text) : JSON.parse(text)) as Record<string, unknown>;
        const warnings = markers.map((m) => `line 3: cannot use api_key=${m}`);

        const record = buildRecord({
          draft: { identity: {}, config: { file: `c.${syntax}`, syntax, text, values } },
          format: 'kohya',
          root: { name: 'r', kind: 'fs', uri: '/r' },
          listing: { dir: 'run', entries: [], names: [] },
          warnings,
        });
        const doc = JSON.stringify(toRunDoc(record, { now: new Date(0), firstSeenAt: null }));

        expect(record.config.text).not.toBeNull();
        expect(record.parse_error).toBeNull();
        expect(markers.filter((m) => doc.includes(m) || (record.config.text ?? '').includes(m))).toEqual([]);
      }),
      { numRuns: Number(process.env.REDACT_RUNS ?? 300) },
    );
  }, 120_000);
});

// --- internal ---

function buildMap(entries: [string, Leaf][]): [unknown, string[]] {
  const obj: Record<string, unknown> = {};
  const markers: string[] = [];
  for (const [k, l] of entries) {
    const key = l.kind === 'secret-key' ? l.key : k;
    // A prefix keeps keys unique without changing the last word, which decides whether a key is secret.
    obj[Object.keys(obj).length === 0 ? key : `k${Object.keys(obj).length}_${key}`] = l.value;
    if (l.kind !== 'plain') {
      markers.push(l.marker);
    }
  }
  return [obj, markers];
}
