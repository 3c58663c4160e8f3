import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatReport } from '../../src/cli/sync.ts';
import { searchRuns } from '../../src/search/run.ts';
import { runSync } from '../../src/sync/run.ts';
import { createTestApp } from './app-context.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { AppContext } from '../../src/context.ts';
import { INDEX_SETTINGS, runsMappings } from '../../src/es/mappings.ts';
import { detectIlm, runRetention } from '../../src/scheduler/retention.ts';
import { silentLogger } from '../../src/log.ts';
import { deleteIndexQuietly, esClient, uniqueName } from './helpers.ts';

const client = esClient();
const NOW = new Date('2025-06-30T12:00:00Z');
const OLD = '2025-05-01T00:00:00Z';
const RECENT = '2025-06-25T00:00:00Z';
let runs: string;

const DOCS: { id: string; tags: string[]; created_at: string | null; expired: boolean }[] = [
  { id: 'old-debug', tags: ['debug'], created_at: OLD, expired: true },
  { id: 'old-test', tags: ['test'], created_at: OLD, expired: true },
  { id: 'old-debug-upper', tags: ['Debug'], created_at: OLD, expired: true },
  { id: 'old-mixed', tags: ['sdxl', 'test'], created_at: OLD, expired: true },
  { id: 'old-debug-2', tags: ['debug'], created_at: '2025-05-30T11:59:59Z', expired: true },
  { id: 'recent-debug', tags: ['debug'], created_at: RECENT, expired: false },
  { id: 'edge-debug', tags: ['debug'], created_at: '2025-05-31T12:00:00Z', expired: false },
  { id: 'old-prod', tags: ['prod'], created_at: OLD, expired: false },
  { id: 'old-untagged', tags: [], created_at: OLD, expired: false },
  { id: 'undated-debug', tags: ['debug'], created_at: null, expired: false },
];

beforeEach(async () => {
  runs = uniqueName('it-retention-runs');
  await client.indices.create({ index: runs, settings: INDEX_SETTINGS, mappings: runsMappings({ cjk: false, ik: false }) });
  await client.bulk({
    refresh: true,
    operations: DOCS.flatMap((doc) => [
      { index: { _index: runs, _id: doc.id } },
      { run_id: doc.id, tags: doc.tags, created_at: doc.created_at, source: { uri: `/runs/${doc.id}` } },
    ]),
  });
});

afterEach(async () => {
  await deleteIndexQuietly(client, runs);
});

describe('src/scheduler/retention', () => {
  it('retires exactly the expired debug/test runs app-side, in pages, keeping their documents as tombstones', async () => {
    const report = await runRetention(ctxFor(), { batchSize: 2 });
    const left = await client.search<{ state?: string; retired_at?: string; retired_reason?: string }>({ index: runs, size: 100 });

    expect(report).toMatchObject({ mode: 'app', ilm: { available: false, policy: null }, matched: 5, retired: 5, failed: 0, aborted: false });
    expect(left.hits.hits).toHaveLength(DOCS.length);
    const retired = left.hits.hits.filter((h) => h._source?.state === 'retired');
    expect(retired.map((h) => h._id).sort()).toEqual(
      DOCS.filter((d) => d.expired)
        .map((d) => d.id)
        .sort(),
    );
    expect(retired[0]?._source).toMatchObject({ retired_at: NOW.toISOString(), retired_reason: expect.stringMatching(/^retention: tagged debug\/test/) });
  });

  it('deletes nothing on a dry run but reports what it would', async () => {
    const report = await runRetention(ctxFor(), { dryRun: true });
    const count = await client.count({ index: runs, query: { bool: { must_not: [{ term: { state: 'retired' } }] } } });

    expect(report).toMatchObject({ dryRun: true, matched: 5, retired: 0 });
    expect(report.runs.map((r) => [r.id, r.location, r.created_at]).sort()).toEqual(
      DOCS.filter((d) => d.expired)
        .map((d) => [d.id, `/runs/${d.id}`, d.created_at])
        .sort(),
    );
    expect(count.count).toBe(DOCS.length);
  });

  it('is idempotent: a second run finds nothing', async () => {
    await runRetention(ctxFor());

    const second = await runRetention(ctxFor());

    expect(second).toMatchObject({ matched: 0, retired: 0 });
  });

  it('treats a missing runs index as nothing to do', async () => {
    const ctx = ctxFor();
    ctx.config.indices.runs = uniqueName('it-retention-missing');

    const report = await runRetention(ctx);

    expect(report).toMatchObject({ matched: 0, retired: 0 });
  });

  it('detects that this engine has no ILM', async () => {
    expect(await detectIlm(client)).toBe(false);
  });
});

// --- internal ---

function ctxFor(): AppContext {
  const config = parseConfig({ indices: { runs }, retention: { days: 30 } });
  return { config, client, log: silentLogger, now: () => NOW, signal: new AbortController().signal };
}

describe('retention and sync (real Elasticsearch)', () => {
  it('a retired run stays retired through the next syncs (counted as kept out, not re-added as new) until its files change', async () => {
    const app = await createTestApp();
    try {
      await runSync(app.ctx, { mode: 'full' });
      const target = '2025-03-02-cyberpunk-city-r8';
      const found = await app.ctx.client.search<{ run_id: string }>({ index: app.config.indices.runs, query: { term: { 'source.path': target } } });
      const runId = found.hits.hits[0]?._source?.run_id ?? '';
      await app.ctx.client.update({ index: app.config.indices.runs, id: runId, doc: { tags: ['debug'], created_at: '2020-01-01T00:00:00Z' }, refresh: true });

      const retention = await runRetention(app.ctx);
      const second = await runSync(app.ctx, { mode: 'full' });
      const incremental = await runSync(app.ctx, { mode: 'incremental' });
      const doc = await app.ctx.client.get<{ state: string; retired_reason: string }>({ index: app.config.indices.runs, id: runId });
      const search = await searchRuns(app.ctx.client, app.config.indices.runs, 'cyberpunk', { now: new Date(), includeVanished: true });
      await appendFile(path.join(app.root, target, 'notes.txt'), 'kept after all\n');
      const third = await runSync(app.ctx, { mode: 'full' });
      const after = await app.ctx.client.get<{ state: string }>({ index: app.config.indices.runs, id: runId });

      // The examples hold other old test-tagged runs too: whatever retention retired stays out.
      const n = retention.retired;
      expect(n).toBeGreaterThanOrEqual(1);
      expect(retention.matched).toBe(n);
      expect(second.counts).toMatchObject({ found: 5, new: 0, retired: n, vanished: 0, unchanged: 5 - n });
      expect(incremental.counts).toMatchObject({ new: 0, retired: n });
      expect(formatReport(second, null)).toContain(`retired (kept out) ${n}`);
      expect(doc._source).toMatchObject({ state: 'retired', retired_reason: expect.stringMatching(/^retention/) });
      expect(search.hits.map((h) => h.run_id)).not.toContain(runId);
      expect(third.counts).toMatchObject({ changed: 1, retired: n - 1 });
      expect(after._source?.state).toBe('active');
    } finally {
      await app.cleanup();
    }
  });
});
