import { accessSync, constants, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, YAMLError } from 'yaml';
import { yamlErrorMessage } from '../text/parse-error-message.ts';
import type { z } from 'zod';
import { ConfigError, errorMessage } from '../errors.ts';
import { Config } from './schema.ts';

export interface LoadedConfig {
  config: Config;
  /** The file it came from, or null for defaults. */
  file: string | null;
}

/** Environment variables that override the config file (secrets belong here, not in the file). */
export const ENV_OVERRIDES = {
  LORA_CATALOG_ES_URL: 'elasticsearch.url',
  LORA_CATALOG_ES_API_KEY: 'elasticsearch.api_key',
  LORA_CATALOG_ES_USERNAME: 'elasticsearch.username',
  LORA_CATALOG_ES_PASSWORD: 'elasticsearch.password',
  LORA_CATALOG_ES_CA_CERT: 'elasticsearch.ca_cert',
} as const;

export const DEFAULT_CONFIG_FILE = 'lora-catalog.yaml';

/**
 * Loads and validates the config: the file named by `--config` or LORA_CATALOG_CONFIG, else
 * ./lora-catalog.yaml if present, else defaults; then env overrides. Relative source paths resolve
 * against the config file's folder. Throws ConfigError naming the key and the problem.
 */
export async function loadConfig(explicitFile?: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const file = explicitFile ?? env.LORA_CATALOG_CONFIG ?? null;
  let raw: unknown = {};
  let resolved: string | null = null;
  const candidate = file ?? DEFAULT_CONFIG_FILE;
  try {
    const text = await readFile(candidate, 'utf8');
    resolved = path.resolve(candidate);
    raw = parseYaml(text, { maxAliasCount: 100 }) ?? {};
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') {
      if (file !== null) {
        throw new ConfigError('config-not-found', `config file ${file} not found`, { cause: err });
      }
    } else {
      // The YAML error quotes the offending line, which may hold the Elasticsearch password.
      throw new ConfigError('config-invalid', `${candidate}: ${err instanceof YAMLError ? yamlErrorMessage(err) : errorMessage(err)}`, { cause: err });
    }
  }
  return { config: parseConfig(applyEnv(raw, env), resolved), file: resolved };
}

/** Validates a raw config object. Throws ConfigError whose message names each wrong key and why. */
export function parseConfig(raw: unknown, file: string | null = null): Config {
  const result = Config.safeParse(raw);
  if (!result.success) {
    throw new ConfigError('config-invalid', `${file ?? 'config'}: ${formatIssues(result.error.issues)}`);
  }
  const config = result.data;
  const base = file ? path.dirname(file) : process.cwd();
  for (const source of config.sources) {
    if (source.kind === 'fs') {
      source.path = path.resolve(base, source.path);
    }
  }
  const names = new Set<string>();
  for (const [i, source] of config.sources.entries()) {
    if (names.has(source.name)) {
      throw new ConfigError('config-invalid', `${file ?? 'config'}: key sources[${i}].name: duplicate source name "${source.name}"`);
    }
    names.add(source.name);
  }
  const indexKeys = Object.entries(config.indices);
  for (const [i, [key, name]] of indexKeys.entries()) {
    const clash = indexKeys.slice(0, i).find(([, other]) => other === name);
    if (clash) {
      throw new ConfigError('config-invalid', `${file ?? 'config'}: key indices.${key}: "${name}" is also indices.${clash[0]}; each index needs its own name`);
    }
  }
  if (config.elasticsearch.ca_cert !== undefined) {
    config.elasticsearch.ca_cert = path.resolve(base, config.elasticsearch.ca_cert);
    checkReadableFile(config.elasticsearch.ca_cert, `${file ?? 'config'}: key elasticsearch.ca_cert`);
  }
  return config;
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const key = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
      return `key ${key || '(root)'}: ${issue.message}`;
    })
    .join('; ');
}

// --- internal ---

/** A missing or unreadable CA certificate is a config error (exit 2), not an unreachable cluster. */
function checkReadableFile(file: string, where: string): void {
  try {
    if (!statSync(file).isFile()) {
      throw new ConfigError('config-invalid', `${where}: ${file} is not a regular file`);
    }
    accessSync(file, constants.R_OK);
  } catch (err) {
    if (err instanceof ConfigError) {
      throw err;
    }
    const code = (err as { code?: string }).code ?? errorMessage(err);
    throw new ConfigError('config-invalid', `${where}: cannot read ${file} (${code})`, { cause: err });
  }
}

function applyEnv(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return raw;
  }
  const out = structuredClone(raw) as Record<string, unknown>;
  for (const [name, target] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') {
      continue;
    }
    const [section, key] = target.split('.') as [string, string];
    const current = out[section];
    const sectionObj = current !== null && typeof current === 'object' && !Array.isArray(current) ? (current as Record<string, unknown>) : {};
    out[section] = { ...sectionObj, [key]: value };
  }
  return out;
}
