import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { s3Client, uniqueName } from './helpers.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');

describe('cli: init and config check against the real services', () => {
  let dir: string;
  let bucket: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'config-check-'));
    await mkdir(path.join(dir, 'runs'));
    bucket = uniqueName('cfgcheck');
    await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fails without a config file and points at init', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'config-none-'));

    const result = await cli(['config', 'check'], empty);

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no config file .*lora-catalog init/);
  });

  it('init writes a commented config that loads, refuses to overwrite it, and config check names the missing root', async () => {
    const target = path.join(dir, 'init', 'lora-catalog.yaml');
    await mkdir(path.dirname(target));

    const first = await cli(['init', target], dir);
    const again = await cli(['init', target], dir);
    const check = await cli(['config', 'check', '--config', target], dir);

    expect(first.code).toBe(0);
    expect(again).toMatchObject({ code: 2, stderr: expect.stringMatching(/exists; .*--force/) });
    const text = await readFile(target, 'utf8');
    expect(text).toMatch(/^# lora-catalog configuration/);
    expect(text).toMatch(/kind: s3/);
    expect(parseConfig(parseYaml(text)).sources).toEqual([expect.objectContaining({ name: 'nfs-runs', kind: 'fs', path: '/data/lora-runs' })]);
    expect(check.code).toBe(2);
    expect(check.stdout).toMatch(/FAIL {2}sources\[0\] \(nfs-runs\): \/data\/lora-runs: does not exist/);
  });

  it('checks every root, bucket and the cluster, and prints no credential (config file or LORA_CATALOG_ES_URL)', async () => {
    const esUrl = new URL(inject('esUrl'));
    const withCreds = `http://admin:s3cr3t-pw@${esUrl.host}`;
    const file = await writeConfigFile('ok.yaml', {
      sources: [
        { name: 'local', kind: 'fs', path: './runs' },
        { name: 'bucket', kind: 's3', bucket, endpoint: inject('s3Endpoint'), force_path_style: true },
      ],
      elasticsearch: { url: withCreds, password: 'other-secret' },
    });

    const fromFile = await cli(['config', 'check', '--config', file], dir);
    const fromEnv = await cli(
      ['config', 'check', '--config', await writeConfigFile('env.yaml', { sources: [{ name: 'local', kind: 'fs', path: './runs' }] })],
      dir,
      { LORA_CATALOG_ES_URL: withCreds },
    );

    expect(fromFile.code, fromFile.stdout + fromFile.stderr).toBe(0);
    expect(fromFile.stdout).toMatch(/ok {4}sources\[0\] \(local\): .*runs exists and is readable/);
    expect(fromFile.stdout).toMatch(new RegExp(`ok {4}sources\\[1\\] \\(bucket\\): s3://${bucket}/ answers`));
    expect(fromFile.stdout).toMatch(/ok {4}elasticsearch: http:\/\/\[hidden\]@127\.0\.0\.1:\d+ answers \(cluster .*, status (green|yellow)\)/);
    expect(fromEnv.code).toBe(0);
    for (const out of [fromFile, fromEnv]) {
      expect(out.stdout + out.stderr).not.toMatch(/s3cr3t-pw|other-secret|admin:/);
    }
  });

  it('fails with exit 2 for a bucket that does not exist and exit 4 for a cluster that does not answer', async () => {
    const noBucket = await writeConfigFile('nobucket.yaml', {
      sources: [{ name: 'b', kind: 's3', bucket: uniqueName('missing'), endpoint: inject('s3Endpoint'), force_path_style: true }],
    });
    const noCluster = await writeConfigFile('nocluster.yaml', {
      sources: [{ name: 'local', kind: 'fs', path: './runs' }],
      elasticsearch: { url: 'http://127.0.0.1:9', request_timeout: '2s' },
    });

    const bucketResult = await cli(['config', 'check', '--config', noBucket], dir);
    const clusterResult = await cli(['config', 'check', '--config', noCluster], dir);

    expect(bucketResult.code, bucketResult.stdout).toBe(2);
    expect(bucketResult.stdout).toMatch(/FAIL {2}sources\[0\] \(b\): s3:\/\/.*NoSuchBucket|FAIL {2}sources\[0\] \(b\): s3:\/\/.*does not exist/);
    expect(clusterResult.code, clusterResult.stdout).toBe(4);
    expect(clusterResult.stdout).toMatch(/FAIL {2}elasticsearch: http:\/\/127\.0\.0\.1:9: Elasticsearch unreachable/);
  }, 120_000);

  async function writeConfigFile(name: string, config: unknown): Promise<string> {
    const file = path.join(dir, name);
    await writeFile(file, JSON.stringify(config));
    return file;
  }
});

// --- internal ---

function cli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { cwd, timeout: 90_000, env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', ...env } },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}
