import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildBundle, renderBundle } from '../../../kibana/bundle.ts';
import { runKibanaCommand } from '../../../src/cli/kibana.ts';
import { parseMultipart, startFakeKibana, type FakeKibana } from './fake-kibana.ts';

interface Captured {
  stdout: string;
  stderr: string;
}

async function run(argv: string[], json = false): Promise<Captured & { code: number }> {
  const out: Captured = { stdout: '', stderr: '' };
  const code = await runKibanaCommand(argv, { stdout: (s) => void (out.stdout += s), stderr: (s) => void (out.stderr += s), json });
  return { ...out, code };
}

const OBJECT_COUNT = buildBundle().length;

// Protocol test of our client against an imitation of Kibana's import/export routes (no Kibana runs here).
describe('src/cli/kibana.ts', () => {
  let kibana: FakeKibana;
  let tmp: string;

  beforeEach(async () => {
    kibana = await startFakeKibana();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kibana-cli-'));
  });

  afterEach(async () => {
    await kibana.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('deploys the bundle as multipart to the default space with kbn-xsrf and the API key', async () => {
    const result = await run(['deploy', '--url', `${kibana.url}/`, '--api-key', 'ZW5jb2RlZA==']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${OBJECT_COUNT} object(s) imported, 0 error(s)`);
    const [request] = kibana.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/api/saved_objects/_import?overwrite=true');
    expect(request?.headers['kbn-xsrf']).toBe('true');
    expect(request?.headers['kbn-version']).toBeUndefined();
    expect(request?.headers.authorization).toBe('ApiKey ZW5jb2RlZA==');
    expect(request?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    const parts = parseMultipart(request?.headers['content-type'], request?.body ?? '');
    expect(parts.map((p) => [p.name, p.filename])).toEqual([['file', 'lora-catalog.ndjson']]);
    expect(parts[0]?.content).toBe(renderBundle());
  });

  it('targets /s/<space> and sends basic auth', async () => {
    const result = await run(['deploy', '--url', kibana.url, '--space', 'ml-team', '--username', 'elastic', '--password', 'pw:1']);

    expect(result.code).toBe(0);
    expect(kibana.requests[0]?.url).toBe('/s/ml-team/api/saved_objects/_import?overwrite=true');
    expect(kibana.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from('elastic:pw:1').toString('base64')}`);
    expect(kibana.store.get('ml-team')?.size).toBe(OBJECT_COUNT);
  });

  it('is idempotent: a second deploy overwrites the same ids', async () => {
    await run(['deploy', '--url', kibana.url]);

    const second = await run(['deploy', '--url', kibana.url], true);

    expect(second.code).toBe(0);
    const report = JSON.parse(second.stdout) as { ok: boolean; successResults: Array<{ overwrite?: boolean }> };
    expect(report.ok).toBe(true);
    expect(report.successResults.every((r) => r.overwrite === true)).toBe(true);
    expect(kibana.store.get('default')?.size).toBe(OBJECT_COUNT);
  });

  it('points the data views at the indices of --config', async () => {
    const config = path.join(tmp, 'lora-catalog.yaml');
    await writeFile(config, 'indices:\n  runs: team-runs\n  rollups: team-rollups\n  sync_runs: team-syncs\n');

    await run(['deploy', '--url', kibana.url, '--config', config]);

    const stored = kibana.store.get('default')?.get('index-pattern:lora-catalog-dv-runs') as { attributes: { title: string } };
    expect(stored.attributes.title).toBe('team-runs');
  });

  it('round-trips: export after deploy returns what was deployed, by our fixed ids', async () => {
    await run(['deploy', '--url', kibana.url, '--space', 'ml-team']);
    const out = path.join(tmp, 'export.ndjson');

    const result = await run(['export', '--url', kibana.url, '--space', 'ml-team', '--out', out]);

    expect(result.code).toBe(0);
    const request = kibana.requests[1];
    expect(request?.url).toBe('/s/ml-team/api/saved_objects/_export');
    expect(request?.headers['kbn-xsrf']).toBe('true');
    expect(request?.headers['content-type']).toBe('application/json');
    expect((JSON.parse(request?.body ?? '{}') as { objects: unknown[] }).objects).toEqual(buildBundle().map((o) => ({ type: o.type, id: o.id })));
    expect(await readFile(out, 'utf8')).toBe(renderBundle());
  });

  it.each([
    [401, { statusCode: 401, error: 'Unauthorized', message: '[security_exception] unable to authenticate' }, 'auth', 'Authentication failed'],
    [403, { statusCode: 403, error: 'Forbidden', message: 'Unable to bulk_create dashboard' }, 'forbidden', 'lacks privileges'],
    [
      422,
      {
        statusCode: 422,
        error: 'Unprocessable Entity',
        message: 'Document "lora-catalog-ranks" belongs to a more recent version of Kibana [10.2.0] when the last known version is [10.1.0].',
      },
      'version',
      'Version mismatch',
    ],
    [400, { statusCode: 400, error: 'Bad Request', message: 'unsupported version' }, 'version', 'Version mismatch'],
    [500, { statusCode: 500, error: 'Internal Server Error', message: 'Migration function for version 8.9.0 threw an error' }, 'version', 'Version mismatch'],
    [400, { statusCode: 400, error: 'Bad Request', message: 'Non-unique import objects detected: [lens:x]' }, 'bad-request', 'Non-unique'],
    [503, 'upstream down', 'http', '503 upstream down'],
  ])('reports HTTP %i as %s', async (status, body, reason, text) => {
    kibana.failWith = { status, body };

    const human = await run(['deploy', '--url', kibana.url]);
    const json = await run(['deploy', '--url', kibana.url], true);

    expect(human.code).toBe(1);
    expect(human.stderr).toContain(text);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'kibana-request-failed', reason } });
  });

  it('lists per-object errors and says nothing was written on missing references', async () => {
    kibana.importResponse = {
      success: false,
      successCount: 2,
      successResults: [],
      errors: [
        {
          type: 'lens',
          id: 'lora-catalog-ranks-summary',
          meta: { title: 'LoRA ranks' },
          error: { type: 'missing_references', references: [{ type: 'index-pattern', id: 'lora-catalog-dv-rollups' }] },
        },
      ],
    };

    const result = await run(['deploy', '--url', kibana.url]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('0 object(s) imported, 1 error(s)');
    expect(result.stderr).toContain('lens:lora-catalog-ranks-summary "LoRA ranks": missing_references (missing index-pattern:lora-catalog-dv-rollups)');
    expect(result.stderr).toContain('Kibana wrote nothing');
  });

  it('fails when Kibana regenerated an id because it exists in another space', async () => {
    kibana.importResponse = { success: true, successCount: 1, successResults: [{ type: 'dashboard', id: 'lora-catalog-ranks', destinationId: 'a1b2' }] };

    const result = await run(['deploy', '--url', kibana.url]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('created it as a1b2');
  });

  it('says to deploy first when export finds objects missing', async () => {
    const result = await run(['export', '--url', kibana.url]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('run kibana deploy first');
  });

  it('export without --url prints the generated import file and says where it went, without asking Kibana', async () => {
    const result = await run(['export', '--config', path.join(tmp, 'absent-is-an-error.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not found');

    const plain = await run(['export']);

    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe(renderBundle());
    expect(plain.stderr).toContain(`wrote the generated import file (${OBJECT_COUNT} objects; indices lora-runs, lora-rollups, lora-sync-runs) to stdout`);
    expect(kibana.requests).toEqual([]);
  });

  it('export without --url writes the file for the --config indices to --out', async () => {
    const config = path.join(tmp, 'lora-catalog.yaml');
    await writeFile(config, 'indices:\n  runs: team-runs\n  rollups: team-rollups\n  sync_runs: team-syncs\n');
    const out = path.join(tmp, 'bundle.ndjson');

    const human = await run(['export', '--config', config, '--out', out]);
    const json = await run(['export', '--config', config, '--out', out], true);

    expect(human.code).toBe(0);
    expect(human.stdout).toBe('');
    expect(human.stderr).toContain(`indices team-runs, team-rollups, team-syncs) to ${out}`);
    const indices = { runs: 'team-runs', rollups: 'team-rollups', syncRuns: 'team-syncs' };
    expect(await readFile(out, 'utf8')).toBe(renderBundle({ indices }));
    expect(JSON.parse(json.stdout)).toEqual({ ok: true, source: 'generated', objects: OBJECT_COUNT, indices, out });
    expect(kibana.requests).toEqual([]);
  });

  it('reports an unreachable Kibana', async () => {
    await kibana.close();

    const result = await run(['deploy', '--url', kibana.url], true);

    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { reason: 'unreachable' } });
    kibana = await startFakeKibana();
  });

  it.each([
    [['deploy'], '--url is required'],
    [['deploy', '--url', 'kibana:5601'], 'http(s) URL'],
    [['deploy', '--url', 'http://k', '--api-key', 'k', '--username', 'u', '--password', 'p'], 'not both'],
    [['deploy', '--url', 'http://k', '--username', 'u'], 'go together'],
    [['deploy', '--url', 'http://k', '--space', 'Bad/Space'], '--space'],
    [['deploy', '--url', 'http://k', '--file', 'x.json'], '.ndjson'],
    [['publish', '--url', 'http://k'], 'unknown subcommand'],
    [['export', '--api-key', 'k'], '--api-key need(s) --url'],
    [['export', '--space', 'ml-team'], '--space need(s) --url'],
  ])('rejects usage %j', async (argv, text) => {
    const result = await run(argv);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(text);
    expect(kibana.requests).toEqual([]);
  });

  it.each([['deploy'], ['export']])('%s --help prints the usage', async (command) => {
    const result = await run([command, '--help']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: lora-catalog kibana deploy --url <kibana>');
    expect(result.stdout).toContain('lora-catalog kibana export [--url <kibana>] [--out FILE]');
  });
});
