import { stringify as stringifyToml } from 'smol-toml';
import { stringify as stringifyYaml } from 'yaml';
import { REDACTED } from '../record/redact.ts';
import type { RunRecord } from '../record/schema.ts';

export interface ReproducedConfig {
  /** Syntax of `body`; a run without a config file is re-serialised as YAML. */
  syntax: 'yaml' | 'toml' | 'json';
  /** Suggested file name: the original config's base name, else `config.<ext>`. */
  fileName: string;
  /** Where the run was and what it produced, one fact a line, without comment markers. */
  header: string[];
  /** The redacted config: the original text when stored, else re-serialised from `config.values`. */
  body: string;
  /** Ready to save and re-run: `#` header + body for YAML/TOML; JSON has no comments, so only the body. */
  text: string;
  /** Whether secrets were replaced by the redaction marker and must be filled in before re-running. */
  redacted: boolean;
}

/** Only the artefacts someone re-running wants to find; logs and samples are left out of the header. */
const HEADER_ARTIFACT_KINDS = new Set(['weights', 'checkpoint']);
const MAX_HEADER_ARTIFACTS = 10;

/** The run's config in its own syntax with a header saying where it ran and where its outputs are. */
export function reproduceRun(record: RunRecord): ReproducedConfig {
  const syntax = record.config.syntax === 'none' ? 'yaml' : record.config.syntax;
  const body = ensureNewline(record.config.text ?? serialise(record.config.values, syntax));
  const redacted = body.includes(REDACTED);
  const header = headerLines(record, redacted);
  const text = syntax === 'json' ? body : `${header.map((l) => `# ${l.replace(/[\r\n]+/g, ' ')}`).join('\n')}\n\n${body}`;
  return { syntax, fileName: fileName(record, syntax), header, body, text, redacted };
}

// --- internal ---

function serialise(values: Record<string, unknown>, syntax: ReproducedConfig['syntax']): string {
  if (Object.keys(values).length === 0) {
    return '';
  }
  switch (syntax) {
    case 'toml':
      return stringifyToml(dropNulls(values) as Record<string, unknown>);
    case 'json':
      return JSON.stringify(values, null, 2);
    case 'yaml':
      return stringifyYaml(values);
  }
}

/** TOML has no null; a null in the stored values means "unset", which TOML expresses by leaving the key out. */
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.filter((v) => v !== null && v !== undefined).map(dropNulls);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (v === null || v === undefined ? [] : [[k, dropNulls(v)]])));
  }
  return value;
}

function headerLines(record: RunRecord, redacted: boolean): string[] {
  const lines = [
    `lora-catalog: config of run ${record.run_id} (${record.format}, ${record.status})`,
    `source: ${record.source.uri}${record.config.file ? ` (config file ${record.config.file})` : ''}`,
  ];
  if (record.config.text === null) {
    lines.push(`re-serialised from the parsed values: the original text was not stored`);
  }
  if (record.output_dir || record.output_name) {
    lines.push(`output_dir: ${record.output_dir ?? '(not set)'}${record.output_name ? `  output_name: ${record.output_name}` : ''}`);
  }
  if (record.best_checkpoint) {
    const epoch = record.best_epoch === null ? '' : ` (epoch ${record.best_epoch})`;
    const loss = record.loss_min === null ? '' : `, loss_min ${record.loss_min}`;
    lines.push(`best checkpoint: ${record.best_checkpoint}${epoch}${loss}`);
  }
  const artifacts = record.artifacts.filter((a) => HEADER_ARTIFACT_KINDS.has(a.kind));
  for (const a of artifacts.slice(0, MAX_HEADER_ARTIFACTS)) {
    lines.push(`artifact: ${a.path} (${a.kind}, ${a.size} bytes)`);
  }
  if (artifacts.length > MAX_HEADER_ARTIFACTS) {
    lines.push(`… and ${artifacts.length - MAX_HEADER_ARTIFACTS} more artifacts`);
  }
  if (redacted) {
    lines.push(`secrets were replaced by ${REDACTED}: fill them in before re-running`);
  }
  return lines;
}

function fileName(record: RunRecord, syntax: ReproducedConfig['syntax']): string {
  const original = record.config.file?.split('/').pop();
  return original && record.config.syntax !== 'none' ? original : `config.${syntax}`;
}

function ensureNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}
