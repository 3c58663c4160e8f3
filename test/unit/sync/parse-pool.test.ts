import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import { discoverRuns, type DiscoveredRun } from '../../../src/sync/discover.ts';
import { adapters } from '../../../src/formats/index.ts';
import { parseRun } from '../../../src/formats/parse-run.ts';
import { createDriver, rootInfo } from '../../../src/sources/index.ts';
import { createParsePool, decodeDoc, encodeDoc, withIdentity } from '../../../src/sync/parse-pool.ts';
import { toRunDoc } from '../../../src/sync/doc.ts';

const REAL = path.resolve(import.meta.dirname, '../../../../shared/samples/real');

describe('parse pool', () => {
  it('hands the main thread the same document as parsing in-process, for every real sample, from workers and in-process', async () => {
    const config = parseConfig({ sources: [{ name: 'real', kind: 'fs', path: REAL }] });
    const source = config.sources[0];
    if (!source) {
      throw new Error('no source');
    }
    const driver = createDriver(source);
    const runs: DiscoveredRun[] = [];
    for await (const item of discoverRuns(driver, '', adapters)) {
      if (item.kind === 'run') {
        runs.push(item);
      }
    }
    expect(runs.length).toBeGreaterThan(5);
    const now = new Date('2026-11-29T12:00:00Z');
    const opts = { now, firstSeenAt: '2026-01-01T00:00:00.000Z' };
    for (const workers of [2, 0]) {
      const pool = createParsePool({ sources: [source], workers });
      try {
        const parsed = await Promise.all(runs.map((run) => pool.parse(source, run, opts)));
        for (const [i, run] of runs.entries()) {
          const expected = toRunDoc(await parseRun(run, { driver, root: rootInfo(source), now }), { now, firstSeenAt: opts.firstSeenAt });
          const got = parsed[i];
          // rollup_stamp is the wall-clock time of the write (ms): equal up to that.
          expect({ ...(got ? decodeDoc(got) : null), rollup_stamp: 0 }).toEqual({ ...JSON.parse(JSON.stringify(expected)), rollup_stamp: 0 });
          expect(got).toMatchObject({
            runId: expected.run_id,
            root: 'real',
            path: expected.source.path,
            status: expected.status,
            rollupKeys: expected.rollup_keys,
          });
        }
      } finally {
        await pool.close();
      }
    }
  }, 120_000);

  it('rewrites the document of a copy under its own id, and leaves the original untouched otherwise', () => {
    const parsed = {
      runId: 'a',
      root: 'r',
      path: 'p',
      status: 'completed' as const,
      rollupKeys: [],
      parseError: null,
      doc: encodeDoc({ run_id: 'a', copy_of: null, lora_rank: 8 }),
    };
    expect(withIdentity(parsed, 'a', null)).toBe(parsed.doc);
    expect(decodeDoc({ doc: withIdentity(parsed, 'b', 'a') })).toEqual({ run_id: 'b', copy_of: 'a', lora_rank: 8 });
  });
});
