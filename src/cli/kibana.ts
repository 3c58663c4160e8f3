import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { buildBundle, renderBundle } from '../../kibana/bundle.ts';
import type { IndexNames } from '../../kibana/common.ts';
import { loadConfig } from '../config/load.ts';
import { errorMessage, PipelineError } from '../errors.ts';
import { blocksWholeImport, exportSavedObjects, importSavedObjects, KibanaError, type KibanaConnection } from './kibana-client.ts';

export interface KibanaCommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Print one JSON object instead of human text. */
  json: boolean;
}

export const KIBANA_USAGE = `Usage: lora-catalog kibana deploy --url <kibana> [options]
       lora-catalog kibana export [--url <kibana>] [--out FILE] [--config FILE]

  deploy   import the data views, visualizations and dashboards (overwrite: re-running is safe)
  export   without --url: write the generated NDJSON import file for the configured index names
           (to --out or stdout; import it in Kibana under Stack Management > Saved objects);
           with --url: export our objects from Kibana by their fixed ids (round trip check)

Options:
  --url URL            Kibana base URL (required for deploy), e.g. https://kibana.example:5601
  --space ID           Kibana space (default: the default space)
  --api-key KEY        API key, the "encoded" value (sent as Authorization: ApiKey KEY)
  --username U         basic auth user (with --password)
  --password P         basic auth password
  --config FILE        lora-catalog config whose indices the data views point at (deploy, export without --url)
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
  if (command === 'export' && values.url === undefined) {
    const kibanaOnly = (['space', 'api-key', 'username', 'password', 'file'] as const).filter((k) => values[k] !== undefined);
    if (kibanaOnly.length > 0) {
      return usage(io, `${kibanaOnly.map((k) => `--${k}`).join(', ')} need(s) --url (export without --url writes the generated file)`);
    }
    return guarded(io, command, () => exportGenerated(io, values.config, values.out));
  }
  const conn = connection(values);
  if (typeof conn === 'string') {
    return usage(io, conn);
  }
  if (values.file !== undefined && !values.file.endsWith('.ndjson')) {
    return usage(io, `--file must end in .ndjson (Kibana rejects other extensions), got ${values.file}`);
  }

  return guarded(io, command, () => (command === 'deploy' ? deploy(io, conn, values.config, values.file) : exportObjects(io, conn, values.out)));
}

// --- internal ---

/** Runs a subcommand, turning a thrown error into exit code 1 with a message (or a JSON error). */
async function guarded(io: KibanaCommandIo, command: string, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
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
    apiKey !== undefined ? `ApiKey ${apiKey}` : basic ? `Basic ${Buffer.from(`${values.username}:${values.password}`).toString('base64')}` : undefined;
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
    io.stderr(
      `  ${e.type}:${e.id}${e.title === undefined ? '' : ` "${e.title}"`}: ${e.error.type}${e.error.message === undefined ? '' : ` ${e.error.message}`}${refs ? ` (missing ${refs})` : ''}\n`,
    );
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
    io.stdout(
      `${JSON.stringify({ ok, exportedCount: result.exportedCount, expected: objects.length, out: out ?? null, missingReferences: result.missingReferences, ...(out === undefined ? { ndjson: result.ndjson } : {}) })}\n`,
    );
    return ok ? 0 : 1;
  }
  if (out === undefined) {
    io.stdout(result.ndjson);
  }
  io.stderr(`kibana export: ${result.exportedCount} of ${objects.length} object(s) exported${out === undefined ? '' : ` to ${out}`}\n`);
  return ok ? 0 : 1;
}

/** `kibana export` without a Kibana: the import file rendered for the configured index names. */
async function exportGenerated(io: KibanaCommandIo, configFile: string | undefined, out: string | undefined): Promise<number> {
  const indices = await indicesFromConfig(configFile);
  const ndjson = renderBundle({ indices });
  const count = ndjson.trimEnd().split('\n').length;
  if (out !== undefined) {
    await writeFile(out, ndjson);
  }
  if (io.json) {
    io.stdout(`${JSON.stringify({ ok: true, source: 'generated', objects: count, indices, out: out ?? null, ...(out === undefined ? { ndjson } : {}) })}\n`);
    return 0;
  }
  if (out === undefined) {
    io.stdout(ndjson);
  }
  const where = out === undefined ? 'stdout' : out;
  io.stderr(
    `kibana export: wrote the generated import file (${count} objects; indices ${indices.runs}, ${indices.rollups}, ${indices.syncRuns}) to ${where}. ` +
      'Import it with `kibana deploy --url …` or in Kibana under Stack Management > Saved objects > Import.\n',
  );
  return 0;
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
  return renderBundle({ indices: await indicesFromConfig(configFile) });
}

async function indicesFromConfig(configFile: string | undefined): Promise<IndexNames> {
  const { config } = await loadConfig(configFile);
  return { runs: config.indices.runs, rollups: config.indices.rollups, syncRuns: config.indices.sync_runs };
}
