import { describe, expect, it } from 'vitest';

import type { DirListing, RootInfo, RunDraft } from '../../../src/formats/types.ts';
import { buildRecord, parseErrorRecord } from '../../../src/record/build.ts';

const ROOT: RootInfo = { name: 'runs', kind: 'fs', uri: '/data/runs' };

/** Two files; the older one was modified 2024-05-01T08:00:00Z. */
const LISTING: DirListing = {
  dir: 'cat',
  entries: [
    { key: 'cat/cat.safetensors', size: 10, mtime: Date.parse('2024-05-02T09:00:00Z') },
    { key: 'cat/config.toml', size: 10, mtime: Date.parse('2024-05-01T08:00:00Z') },
  ],
  names: ['cat.safetensors', 'config.toml'],
};

describe('record/build', () => {
  it.each<[string, RunDraft, string | null, string | null]>([
    [
      'the adapter start time and where it came from',
      { identity: {}, started_at: '2024-04-30T10:15:00.500Z', created_at_source: 'ss_training_started_at' },
      '2024-04-30T10:15:00.500Z',
      'ss_training_started_at',
    ],
    ['the earliest file mtime, marked as such, when the adapter found no start time', { identity: {} }, '2024-05-01T08:00:00.000Z', 'mtime'],
  ])('takes created_at from %s', (_name, draft, createdAt, source) => {
    const record = buildRecord({ draft, format: 'kohya', root: ROOT, listing: LISTING, warnings: [] });

    expect([record.created_at, record.created_at_source]).toEqual([createdAt, source]);
  });

  it('leaves created_at and its source null for an empty folder', () => {
    const record = buildRecord({ draft: { identity: {} }, format: 'kohya', root: ROOT, listing: { dir: 'x', entries: [], names: [] }, warnings: [] });

    expect([record.created_at, record.created_at_source]).toEqual([null, null]);
  });

  it('marks the mtime-based created_at of a parse_error record', () => {
    const record = parseErrorRecord({ format: 'kohya', root: ROOT, listing: LISTING, file: 'cat/config.toml', message: 'bad' });

    expect([record.created_at, record.created_at_source]).toEqual(['2024-05-01T08:00:00.000Z', 'mtime']);
  });
});
