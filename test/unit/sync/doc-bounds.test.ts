import { describe, expect, it } from 'vitest';
import { emptyFields } from '../../../src/record/build.ts';
import type { RunRecord } from '../../../src/record/schema.ts';
import { boundRecord, DEPTH_MARKER, MAX_EPOCH_POINTS, MAX_VALUE_CHARS } from '../../../src/sync/doc-bounds.ts';
import { rejectedDocFactory, toRunDoc } from '../../../src/sync/doc.ts';

function record(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    ...emptyFields(),
    run_id: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
    run_id_basis: 'location',
    source: { kind: 'fs', root: 'r', path: 'a/run', uri: '/data/a/run' },
    format: 'hf-peft',
    fingerprint: 'fp',
    parser_version: '1.0.0',
    ...overrides,
  };
}

function epochs(n: number, best: number): RunRecord['loss_per_epoch'] {
  return Array.from({ length: n }, (_, i) => ({ epoch: i + 1, mean: i === best ? 0.001 : 1, last: 1, min: 1, steps: 1 }));
}

describe('sync/doc-bounds', () => {
  it('returns the same record when everything fits', () => {
    const input = record({
      loss_per_epoch: epochs(MAX_EPOCH_POINTS, 3),
      config: { file: 'c.json', syntax: 'json', text: '{}', values: { a: { b: [1, 'x'] } } },
    });

    const out = boundRecord(input);

    expect(out.record).toBe(input);
    expect(out.epochCount).toBeNull();
  });

  it('downsamples a long epoch series keeping first, last and best, with the exact count', () => {
    const out = boundRecord(record({ loss_per_epoch: epochs(12_000, 7_777) }));

    const kept = out.record.loss_per_epoch.map((e) => e.epoch);
    expect(out.epochCount).toBe(12_000);
    expect(kept.length).toBeLessThanOrEqual(MAX_EPOCH_POINTS);
    expect(kept[0]).toBe(1);
    expect(kept.at(-1)).toBe(12_000);
    expect(kept).toContain(7_778);
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
    expect(out.record.parse_warnings.join(' ')).toMatch(/downsampled from 12000/);
  });

  it('cuts config values nested deeper than the limit and over-long strings, leaving the rest', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 1500; i++) {
      deep = { n: deep };
    }
    const values = { lr: 1e-4, deep, long: 'x'.repeat(MAX_VALUE_CHARS + 10) };

    const out = boundRecord(record({ config: { file: 'c.json', syntax: 'json', text: null, values } }));

    const kept = out.record.config.values;
    expect(kept.lr).toBe(1e-4);
    expect(JSON.stringify(kept)).toContain(DEPTH_MARKER);
    expect(JSON.stringify(kept).split('"n"').length - 1).toBeLessThan(70);
    expect(String(kept.long)).toMatch(/… \[cut: 32778 characters\]$/);
    expect(values.deep).toBe(deep);
  });

  it('puts loss_per_epoch_count on the document only when the series was downsampled', () => {
    const now = new Date('2025-01-01T00:00:00Z');

    expect(toRunDoc(record({ loss_per_epoch: epochs(3, 0) }), { now, firstSeenAt: null })).not.toHaveProperty('loss_per_epoch_count');
    expect(toRunDoc(record({ loss_per_epoch: epochs(20_000, 0) }), { now, firstSeenAt: null }).loss_per_epoch_count).toBe(20_000);
  });

  it('builds the fallback document of a refused run: identity, location, fingerprint, parse_error with the reason', () => {
    const doc = toRunDoc(record({ lora_rank: 8, loss_per_epoch: epochs(3, 0) }), {
      now: new Date('2025-01-01T00:00:00Z'),
      firstSeenAt: '2024-12-01T00:00:00.000Z',
    });

    const fallback = rejectedDocFactory(doc)('document_parsing_exception: too deep');

    expect(fallback).toMatchObject({
      run_id: doc.run_id,
      source: doc.source,
      fingerprint: 'fp',
      parser_version: '1.0.0',
      status: 'parse_error',
      parse_error: { file: 'a/run', message: 'rejected by Elasticsearch: document_parsing_exception: too deep' },
      lora_rank: null,
      loss_per_epoch: [],
      first_seen_at: '2024-12-01T00:00:00.000Z',
      indexed_at: doc.indexed_at,
      state: 'active',
    });
  });
});
