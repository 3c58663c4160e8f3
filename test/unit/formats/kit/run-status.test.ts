import { describe, expect, it } from 'vitest';
import { deriveStatus, lastActivity, RUNNING_WINDOW_MS, stepCount, ZONELESS_SLACK_MS } from '../../../../src/formats/kit/run-status.ts';
import type { StatusInputs } from '../../../../src/record/schema.ts';
import { statusInputs } from '../../../fixtures/status-inputs.ts';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const MIN = 60_000;

function inputs(over: Partial<StatusInputs> = {}): StatusInputs {
  return statusInputs(T0, over);
}

const at = (ms: number) => new Date(ms);

describe('src/formats/kit/run-status', () => {
  it('calls a run with recent activity running, and the same evidence interrupted once the window has passed', () => {
    const evidence = inputs();

    const fresh = deriveStatus(evidence, at(T0 + 10 * MIN));
    const edge = deriveStatus(evidence, at(T0 + RUNNING_WINDOW_MS));
    const stale = deriveStatus(evidence, at(T0 + RUNNING_WINDOW_MS + 1));
    const later = deriveStatus(evidence, at(T0 + 2 * 3_600_000));

    expect([fresh.status, edge.status, stale.status, later.status]).toEqual(['running', 'running', 'interrupted', 'interrupted']);
    expect(fresh.evidence).toBe('newest file modified 10 min ago (2026-03-01T12:00:00.000Z), no final artifact yet, 40/100 steps');
    expect(later.evidence).toBe('stopped without final artifact or error; newest file modified 2 h ago (2026-03-01T12:00:00.000Z), 40/100 steps');
  });

  it.each([
    ['max steps reached', inputs({ last_step: 100 }), 'reached its max steps (100/100 steps) without an end marker'],
    ['past max steps', inputs({ last_step: 101 }), 'reached its max steps (101/100 steps) without an end marker'],
    ['final artifact written', inputs({ final_artifact: 'adapter_model.safetensors' }), 'final artifact adapter_model.safetensors written, 40/100 steps'],
    ['end marker', inputs({ terminal: 'completed', terminal_evidence: 'train_results.json written' }), 'train_results.json written, 40/100 steps'],
  ])('is completed, never running, when %s, even with activity a minute ago', (_case, evidence, text) => {
    const result = deriveStatus(evidence, at(T0 + MIN));

    expect(result).toEqual({ status: 'completed', evidence: text });
  });

  it('is failed on an error in the logs, fresh or stale, unless the final artifact was written', () => {
    const traceback = inputs({ terminal: 'failed', terminal_evidence: 'log reports: torch.OutOfMemoryError: CUDA out of memory' });

    const fresh = deriveStatus(traceback, at(T0 + MIN));
    const stale = deriveStatus(traceback, at(T0 + 5 * 3_600_000));
    const saved = deriveStatus({ ...traceback, final_artifact: 'last.safetensors' }, at(T0 + MIN));

    expect([fresh.status, stale.status, saved.status]).toEqual(['failed', 'failed', 'completed']);
    expect(fresh.evidence).toBe('log reports: torch.OutOfMemoryError: CUDA out of memory, 40/100 steps');
  });

  it('tells interrupted (got going) from unknown (no progress, or a caveat)', () => {
    const later = at(T0 + 3_600_000);

    const noProgress = deriveStatus(inputs({ last_step: null, max_steps: null, progressed: false }), later);
    const checkpointsOnly = deriveStatus(inputs({ last_step: null, max_steps: null, progressed: true }), later);
    const caveat = deriveStatus(inputs({ caveat: 'EarlyStoppingCallback may have stopped it' }), later);
    const caveatFresh = deriveStatus(inputs({ caveat: 'EarlyStoppingCallback may have stopped it' }), at(T0 + MIN));
    const noTime = deriveStatus(inputs({ last_activity_at: null, last_activity_source: null }), later);

    expect([noProgress.status, checkpointsOnly.status, caveat.status, caveatFresh.status, noTime.status]).toEqual([
      'unknown',
      'interrupted',
      'unknown',
      'running',
      'interrupted',
    ]);
    expect(caveat.evidence).toBe('EarlyStoppingCallback may have stopped it; newest file modified 60 min ago (2026-03-01T12:00:00.000Z), 40/100 steps');
    expect(noTime.evidence).toBe('stopped without final artifact or error; no activity time known, 40/100 steps');
  });

  it('prefers the logs’ own timestamps to file mtimes', () => {
    const copied = lastActivity([{ at: T0 - 49 * 86_400_000, source: 'tfevents' }], T0);
    const onlyFiles = lastActivity([], T0);
    const nothing = lastActivity([], null);

    expect(copied).toEqual({ last_activity_at: '2026-01-11T12:00:00.000Z', last_activity_source: 'tfevents' });
    expect(onlyFiles).toEqual({ last_activity_at: '2026-03-01T12:00:00.000Z', last_activity_source: 'mtime' });
    expect(nothing).toEqual({ last_activity_at: null, last_activity_source: null });
  });

  it('bounds a zone-less stamp by its zone slack and by the mtime of the file that holds it', () => {
    const stamp = T0 - 10 * 86_400_000;

    const copiedLater = lastActivity([{ at: stamp, source: 'log-text', zoneless: true, fileMtime: T0 }], T0);
    const writtenThen = lastActivity([{ at: stamp, source: 'log-text', zoneless: true, fileMtime: stamp - 8 * 3_600_000 }], T0);
    const zoned = lastActivity([{ at: stamp, source: 'log-text', fileMtime: T0 }], T0);

    expect(copiedLater.last_activity_at).toBe(new Date(stamp + ZONELESS_SLACK_MS).toISOString());
    expect(writtenThen.last_activity_at).toBe(new Date(stamp - 8 * 3_600_000).toISOString());
    expect(zoned.last_activity_at).toBe(new Date(stamp).toISOString());
  });

  it('never lets a corrupt time or step count make a run running forever or its record invalid', () => {
    const farFuture = deriveStatus(inputs({ last_activity_at: '2999-01-01T00:00:00.000Z', last_activity_source: 'tfevents' }), at(T0));
    const absurd = lastActivity(
      [
        { at: 1e20, source: 'tfevents' },
        { at: Number.NaN, source: 'log-text' },
      ],
      T0,
    );

    expect(farFuture.status).toBe('interrupted');
    expect(absurd).toEqual({ last_activity_at: '2026-03-01T12:00:00.000Z', last_activity_source: 'mtime' });
    expect([stepCount(12), stepCount(-1), stepCount(2.5), stepCount(null), stepCount('7')]).toEqual([12, null, null, null, null]);
  });
});
