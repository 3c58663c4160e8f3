import { parseDocument } from 'yaml';
import { z } from 'zod';
import { parseFlatYaml } from './flat-yaml.ts';
import { yamlErrorMessage } from './parse-error-message.ts';

/** Real configs use no aliases at all; a handful is plenty and stops "billion laughs" expansion. */
export const MAX_YAML_ALIASES = 20;

/** YAML text parsed safely (STYLE rule 11: `Yaml.pipe(Shape)`) (alias expansion capped); a syntax error or an alias bomb is a zod issue, never a throw. */
export const Yaml = z.string().transform((text, ctx): unknown => {
  // One `key: value` per line (most configs): the same values as the full parser, ~25× faster (see flat-yaml.ts).
  const flat = parseFlatYaml(text);
  if (flat !== null) {
    return flat;
  }
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length > 0) {
    ctx.addIssue({ code: 'custom', message: yamlErrorMessage(doc.errors[0]), input: text });
    return z.NEVER;
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) as unknown;
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err), input: text });
    return z.NEVER;
  }
});
export type Yaml = z.infer<typeof Yaml>;
