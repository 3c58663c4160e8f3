import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../../src/config/load.ts';
import { ConfigError } from '../../../src/errors.ts';

describe('config/load', () => {
  it('fills defaults and resolves relative paths against the config file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cfg-'));
    const file = path.join(dir, 'lora-catalog.yaml');
    await writeFile(file, 'sources:\n  - name: nfs\n    kind: fs\n    path: ./runs\n');

    const { config } = await loadConfig(file, {});

    expect(config.sources[0]).toMatchObject({ kind: 'fs', path: path.join(dir, 'runs'), follow_symlinks: false });
    expect(config.indices.runs).toBe('lora-runs');
    expect(config.elasticsearch.url).toBeUndefined();
  });

  it('lets env vars override secrets', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cfg-'));
    const file = path.join(dir, 'c.yaml');
    await writeFile(file, 'elasticsearch:\n  url: http://es:9200\n');

    const { config } = await loadConfig(file, { LORA_CATALOG_ES_API_KEY: 'k123', LORA_CATALOG_ES_URL: 'https://prod:9200' });

    expect(config.elasticsearch).toMatchObject({ url: 'https://prod:9200', api_key: 'k123' });
  });

  it.each([
    [{ sources: [{ name: 'x', kind: 'fs' }] }, /key sources\[0\]\.path/],
    [{ sources: [{ name: 'x', kind: 'ftp', path: '/' }] }, /key sources\[0\]\.kind/],
    [{ sync: { max_vanish_share: 2 } }, /key sync\.max_vanish_share/],
    [{ sync: { vanish_grace: 'soon' } }, /key sync\.vanish_grace: expected a duration/],
    [{ elasticsearch: { url: 'not a url' } }, /key elasticsearch\.url/],
    [{ indices: { runs: 'x' }, typo: 1 }, /typo/],
    [
      {
        sources: [
          { name: 'a', kind: 'fs', path: '/a' },
          { name: 'a', kind: 'fs', path: '/b' },
        ],
      },
      /key sources\[1\]\.name: duplicate/,
    ],
    [{ schedule: { full: '61 2 * * *' } }, /key schedule\.full: not a valid cron expression: "61 2 \* \* \*"/],
    [{ schedule: { incremental: '0 2 * * 8' } }, /key schedule\.incremental: not a valid cron/],
    [{ schedule: { retention: 'nightly' } }, /key schedule\.retention: not a valid cron/],
    [{ schedule: { timezone: 'Mars/Olympus_Mons' } }, /key schedule\.timezone: unknown time zone/],
    [{ indices: { runs: 'Lora-Runs' } }, /key indices\.runs: an index name must be lowercase/],
    [{ indices: { rollups: 'lora rollups' } }, /key indices\.rollups: an index name must not contain/],
    [{ indices: { leases: '_leases' } }, /key indices\.leases: an index name must not start/],
    [{ indices: { sync_runs: 'a:b' } }, /key indices\.sync_runs/],
    [{ indices: { rollups: 'lora-runs' } }, /key indices\.rollups: "lora-runs" is also indices\.runs/],
    [{ elasticsearch: { ca_cert: '/nonexistent/ca.pem' } }, /key elasticsearch\.ca_cert: cannot read \/nonexistent\/ca\.pem \(ENOENT\)/],
    [{ elasticsearch: { ca_cert: '/' } }, /key elasticsearch\.ca_cert: \/ is not a regular file/],
  ])('names the wrong key: %j', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(message);
    try {
      parseConfig(raw);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('config-invalid');
    }
  });

  it('accepts valid cron expressions, time zones and index names', () => {
    const config = parseConfig({
      schedule: { full: '0 1 * * *', incremental: '*/10 * * * * *', timezone: 'Europe/Berlin' },
      indices: { runs: 'team-a.lora-runs' },
    });

    expect(config.schedule).toMatchObject({ full: '0 1 * * *', timezone: 'Europe/Berlin' });
    expect(config.indices.runs).toBe('team-a.lora-runs');
  });

  it('reports a missing explicit file and broken YAML', async () => {
    await expect(loadConfig('/nonexistent/lora-catalog.yaml', {})).rejects.toMatchObject({ code: 'config-not-found' });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cfg-'));
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, 'sources: [\n');

    await expect(loadConfig(file, {})).rejects.toMatchObject({ code: 'config-invalid' });
  });
});
