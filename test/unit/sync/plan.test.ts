import { describe, expect, it } from 'vitest';
import type { DiscoveredRun } from '../../../src/formats/discover.ts';
import { runSortKey } from '../../../src/sources/order.ts';
import { planActions, type CrawledRun } from '../../../src/sync/plan.ts';
import type { IndexedRun } from '../../../src/sync/scan.ts';

function crawled(dir: string, fingerprint = 'f'): CrawledRun {
  return { sortKey: runSortKey(dir), fingerprint, newestMtime: 0, run: { kind: 'run', listing: { dir, entries: [], names: [] }, adapters: [] } as DiscoveredRun };
}

function indexed(dir: string, fingerprint = 'f', state: IndexedRun['state'] = 'active', runId = `id-${dir}`): IndexedRun {
  return { run_id: runId, sort_key: runSortKey(dir), path: dir, fingerprint, parser_version: '1', state, first_seen_at: null, missing_since: null, rollup_keys: [], seq_no: 1, primary_term: 1 };
}

async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

async function plan(crawl: CrawledRun[], index: IndexedRun[]) {
  const out: Array<[string, string]> = [];
  for await (const action of planActions(from(crawl), from(index), '1')) {
    out.push([action.class, action.crawled?.run.listing.dir ?? action.indexed?.path ?? '']);
  }
  return out;
}

describe('sync/plan', () => {
  it('classifies every case in one merge', async () => {
    const crawl = [crawled('a-b'), crawled('a'), crawled('c', 'changed'), crawled('d'), crawled('e')].sort((x, y) => Buffer.compare(Buffer.from(x.sortKey), Buffer.from(y.sortKey)));
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
    for await (const a of planActions(from([crawled('a')]), from([{ ...indexed('a'), parser_version: '0.9' }]), '1')) {
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

  it('orders nested run folders before their parent, as the crawler completes them', () => {
    const keys = ['a', 'a/b', 'a-b', ''].map(runSortKey).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));

    expect(keys).toEqual(['a-b', 'a/b', 'a', ''].map(runSortKey));
  });
});
