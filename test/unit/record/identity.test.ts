import { describe, expect, it } from 'vitest';
import { uuidV5 } from '../../../src/record/identity.ts';

// Expected values from Python's uuid.uuid5, an independent implementation of RFC 4122 version 5.
describe('record/identity uuidV5', () => {
  it('is RFC 4122 version 5 (the DNS namespace example)', () => {
    expect(uuidV5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d');
  });

  it('gives run ids that never change between versions, short names and names longer than any buffer alike', () => {
    expect(uuidV5('location:perf:2021/team-0/run_1')).toBe('86025e4a-1afa-5c36-80f4-70d2ee6d3145');
    expect(uuidV5(`location:lab:${'运行/'.repeat(2000)}`)).toBe('c53abfdd-f4ae-5926-9f51-48905ff5d1e4');
    expect(uuidV5('location:perf:2021/team-0/run_1')).toBe('86025e4a-1afa-5c36-80f4-70d2ee6d3145');
  });
});
