import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FsSourceConfig, S3SourceConfig, SourceConfig } from '../../../src/config/schema.ts';
import { createDriver, drivers, rootInfo } from '../../../src/sources/index.ts';

const DRIVERS_DIR = fileURLToPath(new URL('../../../src/sources/drivers/', import.meta.url));

describe('sources/index', () => {
  it('registers exactly one driver per file in sources/drivers/', async () => {
    const files = (await readdir(DRIVERS_DIR)).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, ''));

    expect(Object.keys(drivers).sort()).toEqual(files.sort());
  });

  it.each([
    [
      { name: 'nfs', kind: 'fs', path: '/mnt/runs/' },
      { name: 'nfs', kind: 'fs', uri: '/mnt/runs' },
    ],
    [
      { name: 'rel', kind: 'fs', path: 'runs' },
      { name: 'rel', kind: 'fs', uri: path.resolve('runs') },
    ],
    [
      { name: 'cloud', kind: 's3', bucket: 'bkt', prefix: 'team/runs/' },
      { name: 'cloud', kind: 's3', uri: 's3://bkt/team/runs' },
    ],
    [
      { name: 'whole', kind: 's3', bucket: 'bkt' },
      { name: 'whole', kind: 's3', uri: 's3://bkt' },
    ],
  ])('rootInfo(%j)', (raw, expected) => {
    const config = SourceConfig.parse(raw);

    expect(rootInfo(config)).toEqual(expected);
  });

  it('creates the driver of each kind without connecting', () => {
    const fs = createDriver(FsSourceConfig.parse({ name: 'a', kind: 'fs', path: '/tmp' }));
    const s3 = createDriver(S3SourceConfig.parse({ name: 'b', kind: 's3', bucket: 'bkt', endpoint: 'http://127.0.0.1:1' }));

    expect([fs.name, fs.flags]).toEqual(['fs', { etag: false, rangedRead: true }]);
    expect([s3.name, s3.flags]).toEqual(['s3', { etag: true, rangedRead: true }]);
  });
});
