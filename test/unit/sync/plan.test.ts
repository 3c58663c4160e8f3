import { describe, expect, it } from 'vitest';
import type { DiscoveredRun } from '../../../src/sync/discover.ts';
import { runSortKey } from '../../../src/sources/order.ts';
import { planActions, type CrawledRun } from '../../../src/sync/plan.ts';
import type { IndexedRun } from '../../../src/sync/scan.ts';
import { statusInputs } from '../../fixtures/status-inputs.ts';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const OPTS = { parserVersion: '1', now: new Date(T0) };

function crawled(dir: string, fingerprint = 'f'): CrawledRun {
  return {
    sortKey: runSortKey(dir),
    fingerprint,
    newestMtime: 0,
    run: { kind: 'run', listing: { dir, entries: [], names: [] }, adapters: [] } as DiscoveredRun,
  };
}

function indexed(dir: string, fingerprint = 'f', state: IndexedRun['state'] = 'active', runId = `id-${dir}`): IndexedRun {
  return {
    run_id: runId,
    sort_key: runSortKey(dir),
    path: dir,
    fingerprint,
    parser_version: '1',
    state,
    first_seen_at: null,
    missing_since: null,
    rollup_keys: [],
    status: 'completed',
    status_inputs: null,
    seq_no: 1,
    primary_term: 1,
  };
}

async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

async function plan(crawl: CrawledRun[], index: IndexedRun[]) {
  const out: Array<[string, string]> = [];
  for await (const action of planActions(from(crawl), from(index), OPTS)) {
    out.push([action.class, action.crawled?.run.listing.dir ?? action.indexed?.path ?? '']);
  }
  return out;
}

describe('sync/plan', () => {
  it('classifies every case in one merge', async () => {
    const crawl = [crawled('a-b'), crawled('a'), crawled('c', 'changed'), crawled('d'), crawled('e')].sort((x, y) =>
      Buffer.compare(Buffer.from(x.sortKey), Buffer.from(y.sortKey)),
    );
    const index = [indexed('a'), indexed('b'), indexed('c'), indexed('d', 'f', 'vanished'), indexed('z', 'f', 'vanished')];

    const actions = await plan(crawl, index);

    expect(actions).toEqual([
      ['new', 'a-b'],
      ['unchanged', 'a'],
      ['vanished', 'b'],
      ['changed', 'c'],
      ['reappeared', 'd'],
      ['new', 'e'],
      ['still-vanished', 'z'],
    ]);
  });

  it('re-reads runs written by an older parser', async () => {
    const actions: string[] = [];
    for await (const a of planActions(from([crawled('a')]), from([{ ...indexed('a'), parser_version: '0.9' }]), OPTS)) {
      actions.push(`${a.class}:${a.reason}`);
    }

    expect(actions).toEqual(['changed:parser-version']);
  });

  it('keeps retired runs retired (found, gone, or under a newer parser) unless their files changed', async () => {
    const actions = await plan(
      [crawled('a'), crawled('b', 'edited'), crawled('c')],
      [indexed('a', 'f', 'retired'), indexed('b', 'f', 'retired'), { ...indexed('c', 'f', 'retired'), parser_version: '0.9' }, indexed('d', 'f', 'retired')],
    );

    expect(actions).toEqual([
      ['retired', 'a'],
      ['changed', 'b'],
      ['retired', 'c'],
      ['retired', 'd'],
    ]);
  });

  it('treats extra documents at one location as stale', async () => {
    const actions = await plan([crawled('a')], [indexed('a'), indexed('a', 'f', 'vanished', 'old-id')]);

    expect(actions).toEqual([
      ['unchanged', 'a'],
      ['still-vanished', 'a'],
    ]);
  });

  it('re-derives the status of an unchanged run from its stored evidence and the clock, without a re-read', async () => {
    const inputs = statusInputs(T0);
    const running = { ...indexed('a'), status: 'running', status_inputs: inputs };
    const run = async (now: number, newestMtime = T0) => {
      const out = [];
      for await (const a of planActions(from([{ ...crawled('a'), newestMtime }]), from([running]), { parserVersion: '1', now: new Date(now) })) {
        out.push([a.class, a.status?.status]);
      }
      return out;
    };

    const soon = await run(T0 + 10 * 60_000);
    const later = await run(T0 + 2 * 3_600_000);
    const touchedSince = await run(T0 + 2 * 3_600_000, T0 + 2 * 3_600_000 - 60_000);
    const noEvidence: unknown[] = [];
    for await (const a of planActions(from([crawled('a')]), from([{ ...indexed('a'), status: 'running' }]), {
      parserVersion: '1',
      now: new Date(T0 + 2 * 3_600_000),
    })) {
      noEvidence.push(a.class);
    }

    expect(soon).toEqual([['unchanged', undefined]]);
    expect(later).toEqual([['status-updated', 'interrupted']]);
    expect(touchedSince).toEqual([['unchanged', undefined]]);
    expect(noEvidence).toEqual(['unchanged']);
  });

  it('orders nested run folders before their parent, as the crawler completes them', () => {
    const keys = ['a', 'a/b', 'a-b', ''].map(runSortKey).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));

    expect(keys).toEqual(['a-b', 'a/b', 'a', ''].map(runSortKey));
  });
});
