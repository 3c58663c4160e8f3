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
    [{ sources: [{ name: 'a', kind: 'fs', path: '/a' }, { name: 'a', kind: 'fs', path: '/b' }] }, /key sources\[1\]\.name: duplicate/],
  ])('names the wrong key: %j', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(message);
    try {
      parseConfig(raw);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('config-invalid');
    }
  });

  it('reports a missing explicit file and broken YAML', async () => {
    await expect(loadConfig('/nonexistent/lora-catalog.yaml', {})).rejects.toMatchObject({ code: 'config-not-found' });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cfg-'));
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, 'sources: [\n');

    await expect(loadConfig(file, {})).rejects.toMatchObject({ code: 'config-invalid' });
  });
});
