import { describe, expect, it } from 'vitest';

import { derived, sharedListing, SHARED_LISTING_MAX } from '../../../../src/formats/kit/shared-listing.ts';
import type { SourceDriver, SourceEntry } from '../../../../src/sources/types.ts';

/** A driver whose folder `<name>-<n>` holds n files, counting the listings asked of it; `broken` fails after 3 files. */
function syntheticDriver(): { driver: SourceDriver; lists: string[] } {
  const lists: string[] = [];
  const driver: SourceDriver = {
    name: 'synthetic',
    flags: { etag: false, rangedRead: true },
    async *list(prefix: string): AsyncGenerator<SourceEntry> {
      lists.push(prefix);
      const n = prefix === 'broken' ? 3 : Number(prefix.split('-').at(-1));
      for (let i = 0; i < n; i++) {
        yield { key: `${prefix}/f${String(i).padStart(6, '0')}`, size: i, mtime: 0 };
      }
      if (prefix === 'broken') {
        throw new Error('connection reset');
      }
    },
    read: async () => null,
    stream: async () => null,
    stat: async () => null,
  };
  return { driver, lists };
}

describe('formats/kit/shared-listing', () => {
  it('lists a folder once per driver, another driver lists it again', async () => {
    const a = syntheticDriver();
    const b = syntheticDriver();

    const first = await sharedListing(a.driver, 'logs-10');
    const again = await sharedListing(a.driver, 'logs-10');
    await sharedListing(b.driver, 'logs-10');

    expect(again).toBe(first);
    expect(first.entries).toHaveLength(10);
    expect(a.lists).toEqual(['logs-10']);
    expect(b.lists).toEqual(['logs-10']);
  });

  it('caps a listing and says it was cut; keeps the entries listed before a failure with the error', async () => {
    const { driver } = syntheticDriver();

    const big = await sharedListing(driver, `big-${SHARED_LISTING_MAX + 5}`);
    const broken = await sharedListing(driver, 'broken');

    expect(big).toMatchObject({ truncated: true, error: null });
    expect(big.entries).toHaveLength(SHARED_LISTING_MAX);
    expect(broken.entries).toHaveLength(3);
    expect(broken.error?.message).toBe('connection reset');
  });

  it('drops the least recently used folders when the entries held pass the bound, and lists them again when asked', async () => {
    const { driver, lists } = syntheticDriver();

    await sharedListing(driver, 'a-45000');
    await sharedListing(driver, 'b-45000');
    await sharedListing(driver, 'a-45000');
    // a and b are 90,000 entries; c takes the total over 100,000: b, the least recently used, goes.
    await sharedListing(driver, 'c-45000');
    await sharedListing(driver, 'a-45000');
    await sharedListing(driver, 'b-45000');

    expect(lists).toEqual(['a-45000', 'b-45000', 'c-45000', 'b-45000']);
  });

  it('builds a derivation once per listing', async () => {
    const { driver } = syntheticDriver();
    const listing = await sharedListing(driver, 'd-4');
    let builds = 0;
    const count = () => {
      builds += 1;
      return listing.entries.length;
    };

    expect([derived(listing, 'n', count), derived(listing, 'n', count)]).toEqual([4, 4]);
    expect(builds).toBe(1);
  });
});
