import { cp, mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import { discoverRuns, type DiscoveredRun } from '../../../src/sync/discover.ts';
import { adapters } from '../../../src/formats/index.ts';
import { parseRun } from '../../../src/formats/parse-run.ts';
import { createDriver, rootInfo } from '../../../src/sources/index.ts';
import { createParsePool, decodeDoc, encodeDoc, withIdentity } from '../../../src/sync/parse-pool.ts';
import { toRunDoc } from '../../../src/sync/doc.ts';
import { rollupView } from '../../../src/rollups/spool.ts';

const REAL = path.resolve(import.meta.dirname, '../../../../shared/samples/real');

/** The real samples as one fs source, and every run discovered in it. */
async function realSampleRuns() {
  const source = parseConfig({ sources: [{ name: 'real', kind: 'fs', path: REAL }] }).sources[0];
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
  return { source, driver, runs };
}

describe('parse pool', () => {
  it('hands the main thread the same document as parsing in-process, for every real sample, from workers and in-process', async () => {
    const { source, driver, runs } = await realSampleRuns();
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

  it('answers a batch of runs with their documents and rollup views as slices of one transferred buffer', async () => {
    const { source, runs } = await realSampleRuns();
    const pool = createParsePool({ sources: [source], workers: 1 });
    try {
      const opts = { now: new Date('2026-11-29T12:00:00Z'), firstSeenAt: null, rollupView: true };
      const parsed = await Promise.all(runs.map((run) => pool.parse(source, run, opts)));
      for (const got of parsed) {
        const doc = decodeDoc(got) as unknown as Record<string, unknown>;
        expect(doc.run_id).toBe(got.runId);
        expect(JSON.parse(new TextDecoder().decode(got.rollupView))).toEqual(JSON.parse(JSON.stringify(rollupView(doc))));
      }
      // Runs asked for in one turn are answered together: one buffer holds several runs' bytes.
      const buffers = new Set(parsed.map((got) => got.doc.buffer));
      expect(buffers.size).toBeLessThan(parsed.length);
      for (const got of parsed) {
        expect(got.rollupView?.buffer).toBe(got.doc.buffer);
      }
    } finally {
      await pool.close();
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

describe('parse pool: closing while a worker reads', () => {
  it('asks the busy worker to stop reading, answers the pending parse with a record that names the cancelled read, and ends within the cancel wait', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'parse-pool-cancel-'));
    try {
      const dir = path.join(root, 'big-log-run');
      await cp(path.resolve(import.meta.dirname, '../../../examples/runs/2025-04-11-ink-wash-landscape-r16'), dir, { recursive: true });
      await writeLog(path.join(dir, 'logs', 'train.log'), 120 * 1024 * 1024);
      const source = parseConfig({ sources: [{ name: 'local', kind: 'fs', path: root }] }).sources[0];
      if (!source) {
        throw new Error('no source');
      }
      let run: DiscoveredRun | undefined;
      for await (const item of discoverRuns(createDriver(source), '', adapters)) {
        run = item.kind === 'run' ? item : run;
      }
      const pool = createParsePool({ sources: [source], workers: 1 });
      const pending = pool.parse(source, run as DiscoveredRun, { now: new Date('2026-11-29T12:00:00Z'), firstSeenAt: null });
      // Long enough for the worker to start even on a loaded machine (0.2-0.4 s when idle), and well inside the log (a full read takes 4 s).
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const t0 = Date.now();
      await pool.close();
      const closeMs = Date.now() - t0;
      const parsed = await pending;

      expect(closeMs).toBeLessThan(2000);
      expect(JSON.stringify(decodeDoc(parsed))).toContain('cancelled (the parse pool is closing)');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 60_000);
});

async function writeLog(file: string, bytes: number): Promise<void> {
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i += 1) {
    lines.push(`[2025-04-11 09:01:00] epoch ${1 + (i % 8)}/8 step ${i + 1} loss 0.${String(2000 - (i % 1000)).padStart(4, '0')} lr 2.0e-04`);
  }
  const chunk = Buffer.from(`${lines.join('\n')}\n`);
  const handle = await open(file, 'w');
  try {
    for (let written = 0; written < bytes; written += chunk.length) {
      await handle.write(chunk);
    }
  } finally {
    await handle.close();
  }
}
