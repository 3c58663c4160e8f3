import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../src/config/load.ts';
import { resolveReportSource } from '../../../../src/sync/hook/report-source.ts';

const config = parseConfig({
  sources: [
    { name: 'nfs', kind: 'fs', path: '/mnt/runs' },
    { name: 'bucket', kind: 's3', bucket: 'runs-bucket' },
  ],
});

describe('src/sync/hook/report-source', () => {
  it.each([
    ['inside a configured source: its name and the path there', '/mnt/runs/team/run-1', { name: 'nfs', prefix: 'team/run-1', adHoc: false }],
    ['the source root itself', '/mnt/runs', { name: 'nfs', prefix: '', adHoc: false }],
    ['a sibling with a common name prefix is outside', '/mnt/runs-old/run-1', { name: 'report:/mnt/runs-old/run-1', prefix: '', adHoc: true }],
    ['directly under /: an ad-hoc root at the run dir, not /', '/run-1', { name: 'report:/run-1', prefix: '', adHoc: true }],
  ])('%s', (_case, dir, expected) => {
    const where = resolveReportSource(config, dir);

    expect({ name: where.source.name, prefix: where.prefix, adHoc: where.adHoc }).toEqual(expected);
    if (where.adHoc) {
      expect(where.source.path).toBe(dir);
    }
  });
});
