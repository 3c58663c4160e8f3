import { describe, expect, it } from 'vitest';
import { formatReport, parseSyncArgs } from '../../../src/cli/sync.ts';
import { emptyCounts, skippedReport } from '../../../src/sync/report.ts';

describe('src/cli/sync formatReport', () => {
  it('"indexed" is the acknowledged writes, not the attempts; retired runs kept out are counted', () => {
    const report = skippedReport({ syncId: 'x', mode: 'full', now: new Date(0), shard: null, message: '' });
    report.status = 'failed';
    report.counts = { ...emptyCounts(), found: 5, new: 3, changed: 1, failed: 2, written: 2, indexed: 2, retired: 1 };

    const text = formatReport(report, null);

    expect(text).toContain('indexed 2 ');
    expect(text).toContain('retired (kept out) 1');
  });
});

describe('src/cli/sync formatReport: parse errors', () => {
  it('names the first parse errors with the run location and the first line of the reason, and counts the rest', () => {
    const report = skippedReport({ syncId: 'x', mode: 'full', now: new Date(0), shard: null, message: '' });
    report.status = 'ok';
    report.counts = { ...emptyCounts(), found: 12, new: 12, parse_errors: 11, written: 12, indexed: 12 };
    report.parse_error_sample = Array.from({ length: 10 }, (_, i) => ({
      location: `/runs/broken-${i}`,
      file: 'config.yaml',
      message: `config.yaml: invalid YAML at line ${i + 1} column 3\n  more detail`,
    }));

    const lines = formatReport(report, null).split('\n');

    expect(lines.filter((l) => l.startsWith('  parse error '))).toHaveLength(10);
    expect(lines).toContain('  parse error /runs/broken-0: config.yaml: invalid YAML at line 1 column 3');
    expect(lines).toContain('  … 1 more parse errors (search: status:parse_error)');
  });
});

describe('src/cli/sync parseSyncArgs', () => {
  const now = new Date('2026-01-02T00:00:00Z');

  it.each([
    [['--since', '2h'], 'incremental'],
    [['--prefix', 'sd/'], 'incremental'],
    [['--since', '2h', '--mode', 'incremental'], 'incremental'],
    [[], 'full'],
    [['--mode', 'incremental'], 'incremental'],
  ])('%j runs a %s sync', (argv, mode) => {
    const parsed = parseSyncArgs(argv, now);

    expect(typeof parsed === 'string' ? parsed : parsed.options.mode).toBe(mode);
  });

  it.each([
    [['--since', '2h', '--mode', 'full'], '--since only applies to incremental syncs: drop --mode full (--since implies --mode incremental)'],
    [['--prefix', 'a', '--mode', 'full'], '--prefix only applies to incremental syncs: drop --mode full (--prefix implies --mode incremental)'],
    [['--mode', 'partial'], '--mode must be full or incremental, got partial'],
  ])('%j is a usage error', (argv, message) => {
    expect(parseSyncArgs(argv, now)).toBe(message);
  });
});
