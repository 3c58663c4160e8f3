import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import { syncLeaseKeys } from '../../../src/sync/sync-lease.ts';

const config = parseConfig({
  sources: [
    { name: 'zeta', kind: 'fs', path: '/z' },
    { name: 'alpha', kind: 'fs', path: '/a' },
    { name: 'mid', kind: 'fs', path: '/m' },
  ],
});

describe('src/sync/sync-lease', () => {
  it.each([
    ['every source, sorted', {}, ['sync:alpha', 'sync:mid', 'sync:zeta']],
    ['the selected sources only', { sources: ['zeta', 'alpha'] }, ['sync:alpha', 'sync:zeta']],
    ['a shard leases its own slice of each source', { sources: ['mid'], shard: { index: 1, count: 4 } }, ['sync:mid:shard-1-of-4']],
  ])('%s', (_name, opts, expected) => {
    expect(syncLeaseKeys(config, opts)).toEqual(expected);
  });
});
