import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import type { AppContext } from '../../src/context.ts';
import { INDEX_SETTINGS, runsMappings } from '../../src/es/mappings.ts';
import { detectIlm, runRetention } from '../../src/jobs/retention.ts';
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
    operations: DOCS.flatMap((doc) => [{ index: { _index: runs, _id: doc.id } }, { run_id: doc.id, tags: doc.tags, created_at: doc.created_at }]),
  });
});

afterEach(async () => {
  await deleteIndexQuietly(client, runs);
});

describe('src/jobs/retention', () => {
  it('deletes exactly the expired debug/test runs app-side, in pages', async () => {
    const report = await runRetention(ctxFor(), { batchSize: 2 });
    const left = await client.search({ index: runs, size: 100, _source: false });

    expect(report).toMatchObject({ mode: 'app', ilm: { available: false, policy: null }, matched: 5, deleted: 5, failed: 0, aborted: false });
    expect(left.hits.hits.map((h) => h._id).sort()).toEqual(DOCS.filter((d) => !d.expired).map((d) => d.id).sort());
  });

  it('deletes nothing on a dry run but reports what it would', async () => {
    const report = await runRetention(ctxFor(), { dryRun: true });
    const count = await client.count({ index: runs });

    expect(report).toMatchObject({ dryRun: true, matched: 5, deleted: 0 });
    expect(count.count).toBe(DOCS.length);
  });

  it('is idempotent: a second run finds nothing', async () => {
    await runRetention(ctxFor());

    const second = await runRetention(ctxFor());

    expect(second).toMatchObject({ matched: 0, deleted: 0 });
  });

  it('treats a missing runs index as nothing to do', async () => {
    const ctx = ctxFor();
    ctx.config.indices.runs = uniqueName('it-retention-missing');

    const report = await runRetention(ctx);

    expect(report).toMatchObject({ matched: 0, deleted: 0 });
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
