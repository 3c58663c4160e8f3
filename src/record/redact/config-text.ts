import { isDeepStrictEqual } from 'node:util';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { parseFlatYaml } from '../../text/flat-yaml.ts';
import { parseTolerantJson } from '../../text/tolerant-json.ts';
import { mentionsSecretKey, redactString } from '../../secrets/shapes.ts';
import { collectRemoved, redactCollect, scrubSecrets } from './values.ts';
import { applyEdits, yamlRedactionEdits } from './yaml-ranges.ts';

export type ConfigSyntax = 'yaml' | 'toml' | 'json' | 'none';

export interface RedactedConfigText {
  /** The kept text, or null when it could not be parsed (a text we cannot read is a text we cannot clean). */
  text: string | null;
  /** Secret strings that were taken out, for scrubbing other copies. */
  secrets: Set<string>;
  /** How the text was produced: `original` (nothing to hide), `in-place` (node ranges / key-value spans), `reserialised`, `dropped`. */
  method: 'original' | 'in-place' | 'reserialised' | 'dropped';
}

/** Alias expansion cap while parsing for redaction; the readers cap lower. */
const MAX_ALIASES = 100;

/**
 * Redacts a config file's text so that it parses to exactly the redacted values (`redactValues` of its own
 * parse): secrets are replaced in place — by the parsed nodes' source ranges for YAML and JSON, by key/value
 * spans for TOML — keeping comments and layout, and every candidate is re-parsed and compared. When no
 * in-place candidate parses to the redacted values, the redacted values are re-serialised; when the text does
 * not parse, it is dropped.
 */
export function redactConfigText(text: string, syntax: ConfigSyntax): RedactedConfigText {
  const codec = CODECS[syntax === 'none' ? 'yaml' : syntax];
  const body = text.replace(/^\uFEFF/, '');
  // Secret shapes anywhere in the text (comments included) are secrets to scrub from other copies too.
  const shapesRedacted = redactString(body);
  const textSecrets = new Set<string>();
  if (shapesRedacted !== body) {
    collectRemoved(body, shapesRedacted, textSecrets);
  }
  const original = tryParse(codec, body);
  if (!original.ok) {
    return { text: null, secrets: textSecrets, method: 'dropped' };
  }
  const redacted = redactCollect(original.value);
  const secrets = new Set([...redacted.secrets, ...textSecrets]);
  // Nothing to hide in the values, no secret shape and no secret-named key anywhere in the text (comments and
  // duplicate keys included): the text is kept as it is, without building node ranges and re-parsing.
  if (!redacted.changed && shapesRedacted === body && !mentionsSecretKey(body)) {
    return { text: body, secrets, method: 'original' };
  }
  // A secret also reached through a YAML alias or copied under a harmless key is scrubbed there too.
  const expected = scrubSecrets(redacted.value, redacted.secrets);
  const candidates: string[] = [];
  const edits = syntax === 'toml' ? null : yamlRedactionEdits(body);
  if (edits !== null) {
    const ranged = applyEdits(body, edits);
    candidates.push(redactString(ranged), ranged);
  }
  candidates.push(shapesRedacted);
  for (const candidate of candidates) {
    const reparsed = tryParse(codec, candidate);
    if (reparsed.ok && isDeepStrictEqual(plain(reparsed.value), plain(expected))) {
      return { text: candidate, secrets, method: candidate === body ? 'original' : 'in-place' };
    }
  }
  try {
    return { text: codec.stringify(expected), secrets, method: 'reserialised' };
  } catch {
    return { text: null, secrets, method: 'dropped' };
  }
}

// --- internal ---

interface Codec {
  parse(text: string): unknown;
  stringify(value: unknown): string;
}

const CODECS: Record<Exclude<ConfigSyntax, 'none'>, Codec> = {
  // Flat `key: value` texts take the exact fast path (same values as `yaml`); anything else the full parser.
  yaml: { parse: (t) => parseFlatYaml(t) ?? parseYaml(t, { maxAliasCount: MAX_ALIASES, uniqueKeys: false }), stringify: (v) => stringifyYaml(v) },
  toml: { parse: (t) => parseToml(t), stringify: (v) => stringifyToml(v as Record<string, unknown>) },
  json: {
    parse: (t) => {
      const result = parseTolerantJson(t);
      if (!result.ok) {
        throw new Error(result.message);
      }
      return result.value;
    },
    stringify: (v) => `${JSON.stringify(v, null, 2)}\n`,
  },
};

function tryParse(codec: Codec, text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: codec.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Parsers differ in object prototypes (smol-toml: null); compare structure only. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(plain);
  }
  if (value !== null && typeof value === 'object' && (Object.getPrototypeOf(value) === null || Object.getPrototypeOf(value) === Object.prototype)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}
