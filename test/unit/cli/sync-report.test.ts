import { describe, expect, it } from 'vitest';
import { formatReport } from '../../../src/cli/sync.ts';
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
