import type { Client } from '@elastic/elasticsearch';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import type { AppContext } from '../../../src/context.ts';
import { silentLogger } from '../../../src/log.ts';
import { openCrawl } from '../../../src/sync/crawl.ts';
import { startHeadStart } from '../../../src/sync/head-start.ts';
import type { ParsedRun, ParseOptions, ParsePool } from '../../../src/sync/parse-pool.ts';
import type { CrawledRun } from '../../../src/sync/plan.ts';
import { tempTrees } from '../../helpers/temp-tree.ts';

const trees = tempTrees('lora-catalog-head-start-');
afterEach(() => trees.cleanup());

const LOG = ['epoch 1/2 step 1 loss=0.2 lr=0.0001', 'epoch 2/2 step 2 loss=0.1 lr=0.0001', ''].join('\n');

/** `n` runs in the article's format (config.yaml + logs/train.log). */
async function runsTree(n: number): Promise<string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    const dir = `team/run-${String(i).padStart(3, '0')}`;
    files[`${dir}/config.yaml`] = `train_data_dir: "./data/set_${i}"\nlora_rank: 4\nlearning_rate: 0.0001\nepochs: 2\n`;
    files[`${dir}/logs/train.log`] = LOG;
  }
  return trees.tree(files);
}

/** A parse pool that records what it was asked to read and answers with a document of `docBytes` bytes. */
function recordingPool(docBytes = 100) {
  const asked: { path: string; opts: ParseOptions }[] = [];
  const pool: ParsePool = {
    async parse(_source, run, opts) {
      asked.push({ path: run.listing.dir, opts });
      const parsed: ParsedRun = {
        runId: `id-${run.listing.dir}`,
        root: 'runs',
        path: run.listing.dir,
        status: 'completed',
        rollupKeys: [],
        parseError: null,
        doc: new Uint8Array(docBytes),
      };
      return parsed;
    },
    async close() {},
  };
  return { pool, asked };
}

function context(root: string, indexedRuns: number) {
  const counted: unknown[] = [];
  const client = {
    async count(req: unknown) {
      counted.push(req);
      return { count: indexedRuns };
    },
  } as unknown as Client;
  const config = parseConfig({ sources: [{ name: 'runs', kind: 'fs', path: root }] });
  const now = new Date('2026-11-30T12:00:00Z');
  const ctx: AppContext = { config, client, log: silentLogger, now: () => now, signal: new AbortController().signal };
  return { ctx, source: config.sources[0] as (typeof config.sources)[number], counted, now };
}

async function collect(runs: AsyncIterable<CrawledRun>): Promise<CrawledRun[]> {
  const out: CrawledRun[] = [];
  for await (const run of runs) {
    out.push(run);
  }
  return out;
}

/** Waits until `n` reads were asked for, then a little longer, so a loop that would go past `n` is seen doing it. */
async function readsReach(asked: unknown[], n: number): Promise<void> {
  await vi.waitFor(() => expect(asked.length).toBeGreaterThanOrEqual(n), { timeout: 10_000, interval: 10 });
  await new Promise((resolve) => setTimeout(resolve, 200));
}

describe('head start', () => {
  it('reads nothing ahead when the runs index holds runs of the source', async () => {
    const root = await runsTree(3);
    const { ctx, source, counted } = context(root, 1);
    const { pool, asked } = recordingPool();
    const head = await startHeadStart({ ctx, source, opts: { mode: 'full', backfill: true }, parser: pool, concurrency: 4 });
    expect(head).toBeNull();
    expect(asked).toEqual([]);
    expect(JSON.stringify(counted)).toContain('"source.root":"runs"');
  });

  it('reads the first runs as new runs, then hands over the same listing in reconcile order', async () => {
    const root = await runsTree(12);
    const { ctx, source, now } = context(root, 0);
    const opts = { mode: 'full' as const, backfill: true };
    const { pool, asked } = recordingPool();
    const head = await startHeadStart({ ctx, source, opts, parser: pool, concurrency: 2, limits: { runs: 5, bytes: 1 << 20, entries: 1000 } });
    expect(head).not.toBeNull();
    if (!head) {
      return;
    }
    await readsReach(asked, 5);
    // Bounded: five runs read, none beyond.
    expect(asked.map((a) => a.path)).toEqual(['team/run-000', 'team/run-001', 'team/run-002', 'team/run-003', 'team/run-004']);
    expect(asked.every((a) => a.opts.firstSeenAt === null && a.opts.now === now)).toBe(true);
    expect(head.now).toBe(now);

    const crawl = head.takeCrawl();
    const handed = await collect(crawl.runs);
    const plain = await collect(openCrawl(source, opts, silentLogger).runs);
    expect(handed.map((r) => [r.sortKey, r.fingerprint])).toEqual(plain.map((r) => [r.sortKey, r.fingerprint]));
    expect(crawl.sourceReport).toMatchObject({ name: 'runs', complete: true, warnings: 0 });

    const reads = handed.map((run) => head.takeRead(run));
    expect(reads.filter(Boolean)).toHaveLength(5);
    expect(await reads[3]).toMatchObject({ path: 'team/run-003' });
    expect(reads.slice(5).every((r) => r === undefined)).toBe(true);
    // Once: a second take finds nothing.
    expect(handed[0] ? head.takeRead(handed[0]) : 'no run').toBeUndefined();
    await head.close();
    await crawl.driver.dispose?.();
  });

  // Three runs read in each case: 1,000-byte documents against 3,000 bytes (one read in flight, so none beyond),
  // or two files a run against 6 files (the fourth run would bring the listings held to 8).
  it.each([
    { limit: 'byte', docBytes: 1000, concurrency: 1, limits: { runs: 100, bytes: 3000, entries: 1000 } },
    { limit: 'file', docBytes: 100, concurrency: 4, limits: { runs: 100, bytes: 1 << 20, entries: 6 } },
  ])('stops reading ahead once what it holds reaches the $limit limit', async ({ docBytes, concurrency, limits }) => {
    const root = await runsTree(20);
    const { ctx, source } = context(root, 0);
    const { pool, asked } = recordingPool(docBytes);
    const head = await startHeadStart({ ctx, source, opts: { mode: 'full' }, parser: pool, concurrency, limits });
    await readsReach(asked, 3);
    expect(asked).toHaveLength(3);
    await head?.close();
  });

  it('reads nothing once the sync is aborted, and the handed-over crawl still lists every run', async () => {
    const root = await runsTree(4);
    const { ctx, source } = context(root, 0);
    const abort = new AbortController();
    abort.abort();
    const { pool, asked } = recordingPool();
    const head = await startHeadStart({ ctx: { ...ctx, signal: abort.signal }, source, opts: { mode: 'full' }, parser: pool, concurrency: 4 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(asked).toEqual([]);
    const crawl = head?.takeCrawl();
    expect(crawl ? (await collect(crawl.runs)).map((r) => r.run.listing.dir) : []).toEqual(['team/run-000', 'team/run-001', 'team/run-002', 'team/run-003']);
    await head?.close();
    await crawl?.driver.dispose?.();
  });
});
