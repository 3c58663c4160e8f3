import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { buildBundle, renderBundle } from '../../kibana/bundle.ts';
import { loadConfig } from '../config/load.ts';
import { errorMessage, PipelineError } from '../errors.ts';
import { blocksWholeImport, exportSavedObjects, importSavedObjects, KibanaError, type KibanaConnection } from './kibana-client.ts';

export interface KibanaCommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Print one JSON object instead of human text. */
  json: boolean;
}

export const KIBANA_USAGE = `Usage: lora-catalog kibana <deploy|export> --url <kibana> [options]

  deploy   import the data views, visualizations and dashboards (overwrite: re-running is safe)
  export   export our objects by their fixed ids (round trip check)

Options:
  --url URL            Kibana base URL (required), e.g. https://kibana.example:5601
  --space ID           Kibana space (default: the default space)
  --api-key KEY        API key, the "encoded" value (sent as Authorization: ApiKey KEY)
  --username U         basic auth user (with --password)
  --password P         basic auth password
  --config FILE        lora-catalog config whose indices the data views point at (deploy)
  --file FILE          deploy this .ndjson instead of building it from kibana/
  --out FILE           export: write the NDJSON here instead of stdout
  --es-url URL         accepted for symmetry with other commands; unused
  -h, --help           this help

Exit codes: 0 ok, 1 Kibana refused or some objects failed, 2 usage.
`;

/** `kibana deploy|export`; returns the exit code. */
export async function runKibanaCommand(argv: string[], io: KibanaCommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        space: { type: 'string' },
        'api-key': { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        config: { type: 'string' },
        file: { type: 'string' },
        out: { type: 'string' },
        'es-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return usage(io, errorMessage(err));
  }
  const { values } = parsed;
  const [command, ...rest] = parsed.positionals;
  if (values.help === true) {
    io.stdout(KIBANA_USAGE);
    return 0;
  }
  if (command !== 'deploy' && command !== 'export') {
    return usage(io, command === undefined ? 'missing subcommand' : `unknown subcommand: ${command}`);
  }
  if (rest.length > 0) {
    return usage(io, `unexpected argument: ${rest.join(' ')}`);
  }
  const conn = connection(values);
  if (typeof conn === 'string') {
    return usage(io, conn);
  }
  if (values.file !== undefined && !values.file.endsWith('.ndjson')) {
    return usage(io, `--file must end in .ndjson (Kibana rejects other extensions), got ${values.file}`);
  }

  try {
    return command === 'deploy' ? await deploy(io, conn, values.config, values.file) : await exportObjects(io, conn, values.out);
  } catch (err) {
    const code = err instanceof PipelineError ? err.code : 'kibana-request-failed';
    const reason = err instanceof KibanaError ? err.reason : undefined;
    if (io.json) {
      io.stdout(`${JSON.stringify({ ok: false, error: { code, reason, message: errorMessage(err) } })}\n`);
    } else {
      io.stderr(`kibana ${command}: ${errorMessage(err)}\n`);
    }
    return 1;
  }
}

// --- internal ---

interface Flags {
  url?: string;
  space?: string;
  'api-key'?: string;
  username?: string;
  password?: string;
}

function connection(values: Flags): KibanaConnection | string {
  if (values.url === undefined) {
    return '--url is required';
  }
  if (!/^https?:\/\//.test(values.url)) {
    return `--url must be an http(s) URL, got ${values.url}`;
  }
  if (values.space !== undefined && !/^[a-z0-9_-]+$/.test(values.space)) {
    return `--space must be a space id ([a-z0-9_-]), got ${values.space}`;
  }
  const apiKey = values['api-key'];
  const basic = values.username !== undefined || values.password !== undefined;
  if (apiKey !== undefined && basic) {
    return 'use either --api-key or --username/--password, not both';
  }
  if (basic && (values.username === undefined || values.password === undefined)) {
    return '--username and --password go together';
  }
  const authorization =
    apiKey !== undefined
      ? `ApiKey ${apiKey}`
      : basic
        ? `Basic ${Buffer.from(`${values.username}:${values.password}`).toString('base64')}`
        : undefined;
  return { url: values.url, space: values.space, ...(authorization === undefined ? {} : { authorization }) };
}

async function deploy(io: KibanaCommandIo, conn: KibanaConnection, configFile: string | undefined, file: string | undefined): Promise<number> {
  const ndjson = file !== undefined ? await readFile(file, 'utf8') : await bundleFromConfig(configFile);
  const result = await importSavedObjects(conn, ndjson);
  const moved = result.successResults.filter((r) => r.destinationId !== undefined);
  const nothingWritten = result.errors.some(blocksWholeImport);
  const ok = result.success && result.errors.length === 0 && moved.length === 0;
  if (io.json) {
    io.stdout(`${JSON.stringify({ ok, nothingWritten, ...result })}\n`);
    return ok ? 0 : 1;
  }
  const written = nothingWritten ? 0 : result.successCount;
  (ok ? io.stdout : io.stderr)(`kibana deploy: ${written} object(s) imported, ${result.errors.length} error(s)\n`);
  for (const e of result.errors) {
    const refs = e.error.references?.map((r) => `${r.type}:${r.id}`).join(', ');
    io.stderr(`  ${e.type}:${e.id}${e.title === undefined ? '' : ` "${e.title}"`}: ${e.error.type}${e.error.message === undefined ? '' : ` ${e.error.message}`}${refs ? ` (missing ${refs})` : ''}\n`);
  }
  if (nothingWritten) {
    io.stderr('  Kibana wrote nothing: resolve the errors above and deploy again.\n');
  }
  for (const r of moved) {
    io.stderr(`  ${r.type}:${r.id} exists in another space; Kibana created it as ${r.destinationId}. Use one id set per space.\n`);
  }
  return ok ? 0 : 1;
}

async function exportObjects(io: KibanaCommandIo, conn: KibanaConnection, out: string | undefined): Promise<number> {
  const objects = buildBundle().map((o) => ({ type: o.type, id: o.id }));
  const result = await exportSavedObjects(conn, objects);
  const missing = objects.length - result.exportedCount;
  if (out !== undefined) {
    await writeFile(out, result.ndjson);
  }
  const ok = missing === 0;
  if (io.json) {
    io.stdout(`${JSON.stringify({ ok, exportedCount: result.exportedCount, expected: objects.length, out: out ?? null, missingReferences: result.missingReferences, ...(out === undefined ? { ndjson: result.ndjson } : {}) })}\n`);
    return ok ? 0 : 1;
  }
  if (out === undefined) {
    io.stdout(result.ndjson);
  }
  io.stderr(`kibana export: ${result.exportedCount} of ${objects.length} object(s) exported${out === undefined ? '' : ` to ${out}`}\n`);
  return ok ? 0 : 1;
}

function usage(io: KibanaCommandIo, problem: string): number {
  if (io.json) {
    io.stdout(`${JSON.stringify({ ok: false, error: { code: 'usage', message: problem } })}\n`);
  } else {
    io.stderr(`kibana: ${problem}\n\n${KIBANA_USAGE}`);
  }
  return 2;
}

async function bundleFromConfig(configFile: string | undefined): Promise<string> {
  const { config } = await loadConfig(configFile);
  return renderBundle({ indices: { runs: config.indices.runs, rollups: config.indices.rollups, syncRuns: config.indices.sync_runs } });
}
