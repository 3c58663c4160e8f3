import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import type { LoadedConfig } from '../config/load.ts';
import type { Config, SourceConfig } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import { redactValues } from '../record/redact.ts';
import { createDriver } from '../sources/index.ts';
import { describeConnectFailure } from './connect.ts';
import type { Io } from './io.ts';

/** One line of `config check`: what was checked and what it found. */
export interface CheckResult {
  /** The config key checked, e.g. `sources[0] (nfs-runs)` or `elasticsearch`. */
  key: string;
  ok: boolean;
  detail: string;
  /** 2: the config is wrong; 4: a service did not answer. */
  exitCode?: 2 | 4;
}

/** How long one source or cluster check may take before it counts as not answering. */
const CHECK_TIMEOUT_MS = 15_000;

export const CONFIG_CHECK_USAGE = `Usage: lora-catalog config check [--config <file>] [--json]
Validates the config file (the file named by --config or LORA_CATALOG_CONFIG, else ./lora-catalog.yaml),
then checks that every fs root exists and is readable, that every bucket answers, and that the
configured Elasticsearch answers. Prints the config with credentials hidden.
Exit codes: 0 all good, 2 no config file or a wrong value (the key is named), 4 a service did not answer.
No config file yet? lora-catalog init writes a commented one.`;

/**
 * `config check`: a config that loads is not yet a config that works. Each source and the cluster
 * are tried once, with a deadline; credentials never appear in what is printed.
 */
export async function configCheck(loaded: LoadedConfig, io: Io): Promise<number> {
  if (loaded.file === null) {
    io.stderr(
      'lora-catalog config check: no config file (looked for ./lora-catalog.yaml; none given with --config or LORA_CATALOG_CONFIG). `lora-catalog init` writes a commented one.',
    );
    return 2;
  }
  const { config } = loaded;
  const results: CheckResult[] = [];
  if (config.sources.length === 0) {
    results.push({ key: 'sources', ok: false, detail: 'no sources: add an fs path or an S3 bucket to crawl', exitCode: 2 });
  }
  for (const [i, source] of config.sources.entries()) {
    results.push(await checkSource(source, `sources[${i}] (${source.name})`));
  }
  results.push(await checkElasticsearch(config));
  const shown = redactedConfig(config);
  const failed = results.filter((r) => !r.ok);
  const exitCode = failed.some((r) => r.exitCode === 2) ? 2 : failed.length > 0 ? 4 : 0;
  if (io.json) {
    io.stdout(JSON.stringify({ ok: exitCode === 0, file: loaded.file, checks: results, config: shown }, null, 2));
    return exitCode;
  }
  io.stdout(`config ${loaded.file}: ${exitCode === 0 ? 'OK' : `${failed.length} problem(s)`}`);
  for (const r of results) {
    io.stdout(`  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.key}: ${r.detail}`);
  }
  io.stdout(`\n${JSON.stringify(shown, null, 2)}`);
  return exitCode;
}

/** The config as printed: passwords and keys hidden, and no user:password inside any URL. */
export function redactedConfig(config: Config): Config {
  // Secret keys (api_key, password…) by name, then URL credentials, from the file or LORA_CATALOG_ES_URL alike.
  const shown = redactValues(config);
  for (const key of ['api_key', 'password'] as const) {
    if (shown.elasticsearch[key]) {
      shown.elasticsearch[key] = '[hidden]';
    }
  }
  if (shown.elasticsearch.url) {
    shown.elasticsearch.url = hideUrlCredentials(shown.elasticsearch.url);
  }
  for (const source of shown.sources) {
    if (source.kind === 's3' && source.endpoint) {
      source.endpoint = hideUrlCredentials(source.endpoint);
    }
  }
  return shown;
}

/** `https://user:secret@host/` → `https://[hidden]@host/`; anything that is not a URL is left alone. */
export function hideUrlCredentials(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.username === '' && parsed.password === '') {
    return url;
  }
  return `${parsed.protocol}//[hidden]@${parsed.host}${parsed.pathname === '/' && !url.endsWith('/') ? '' : parsed.pathname}${parsed.search}${parsed.hash}`;
}

// --- internal ---

async function checkSource(source: SourceConfig, key: string): Promise<CheckResult> {
  if (source.kind === 'fs') {
    try {
      const info = await stat(source.path);
      if (!info.isDirectory()) {
        return { key, ok: false, detail: `${source.path} is not a directory`, exitCode: 2 };
      }
      await access(source.path, constants.R_OK | constants.X_OK);
      return { key, ok: true, detail: `${source.path} exists and is readable` };
    } catch (err) {
      const code = (err as { code?: string }).code;
      return {
        key,
        ok: false,
        detail: `${source.path}: ${code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'not readable by this user' : errorMessage(err)}`,
        exitCode: 2,
      };
    }
  }
  const where = `s3://${source.bucket}/${source.prefix}`;
  try {
    const driver = createDriver(source);
    await withDeadline(firstEntry(driver.list('')), `${where} did not answer within ${CHECK_TIMEOUT_MS / 1000} s`);
    await driver.dispose?.();
    return { key, ok: true, detail: `${where} answers` };
  } catch (err) {
    const name = (err as { name?: string; cause?: { name?: string } }).cause?.name ?? (err as { name?: string }).name ?? '';
    const configProblem = /NoSuchBucket|AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|PermanentRedirect|AuthorizationHeaderMalformed/.test(
      `${name} ${errorMessage(err)}`,
    );
    return { key, ok: false, detail: `${where}: ${errorMessage(err)}`, exitCode: configProblem ? 2 : 4 };
  }
}

async function checkElasticsearch(config: Config): Promise<CheckResult> {
  const key = 'elasticsearch';
  if (!config.elasticsearch.url) {
    return { key, ok: true, detail: 'the embedded local engine (started by the first command that needs it)' };
  }
  const shownUrl = hideUrlCredentials(config.elasticsearch.url);
  const { createEsClient } = await import('../es/client.ts');
  const client = createEsClient(config.elasticsearch.url, config.elasticsearch);
  try {
    // _cluster/health, as every command's first request (the minimal engine has no `GET /`).
    const health = await withDeadline(client.cluster.health(), `${shownUrl} did not answer within ${CHECK_TIMEOUT_MS / 1000} s`);
    return { key, ok: true, detail: `${shownUrl} answers (cluster ${health.cluster_name}, status ${health.status})` };
  } catch (err) {
    const failure = describeConnectFailure(err);
    return { key, ok: false, detail: `${shownUrl}: ${failure.message.replaceAll(config.elasticsearch.url, shownUrl)}`, exitCode: failure.exitCode };
  } finally {
    await client.close();
  }
}

async function firstEntry(entries: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of entries) {
    return;
  }
}

async function withDeadline<T>(work: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
