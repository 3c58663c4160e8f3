import { describe, expect, it } from 'vitest';
import type { StatusInputs } from '../../../src/record/schema.ts';
import { statusInputs } from '../../fixtures/status-inputs.ts';
import type { SourceEntry } from '../../../src/sources/types.ts';
import { confirmStatus, rederiveStatus } from '../../../src/sync/restatus.ts';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;

function inputs(over: Partial<StatusInputs> = {}): StatusInputs {
  return statusInputs(T0, { max_steps: 300, last_step: 100, last_activity_source: 'tfevents', ...over });
}

function statDriver(mtimes: Record<string, number>) {
  const asked: string[] = [];
  return {
    asked,
    async stat(key: string): Promise<SourceEntry | null> {
      asked.push(key);
      return key in mtimes ? { key, size: 1, mtime: mtimes[key] as number } : null;
    },
  };
}

describe('sync/restatus', () => {
  it('moves a stale running run to interrupted and leaves a fresh or final one alone', () => {
    const stale = rederiveStatus({ status: 'running', status_inputs: inputs() }, T0, new Date(T0 + 2 * HOUR));
    const fresh = rederiveStatus({ status: 'running', status_inputs: inputs() }, T0, new Date(T0 + 60_000));
    const completed = rederiveStatus({ status: 'completed', status_inputs: inputs({ last_step: 300 }) }, T0, new Date(T0 + 2 * HOUR));
    const parseError = rederiveStatus({ status: 'parse_error', status_inputs: null }, T0, new Date(T0 + 2 * HOUR));

    expect(stale?.status).toBe('interrupted');
    expect([fresh, completed, parseError]).toEqual([null, null, null]);
  });

  it('keeps a kohya run running while its log folder outside the run still grows, asking only for mtimes', async () => {
    const stored = { status: 'running', status_inputs: inputs({ external_logs: ['logs/at20260301/network_train/events.out.tfevents.1.host.2.0'] }) };
    const now = new Date(T0 + 2 * HOUR);
    const derived = rederiveStatus(stored, T0, now);
    const growing = statDriver({ 'logs/at20260301/network_train/events.out.tfevents.1.host.2.0': now.getTime() - 120_000 });
    const quiet = statDriver({ 'logs/at20260301/network_train/events.out.tfevents.1.host.2.0': T0 });

    const whileGrowing = await confirmStatus(growing, stored, derived ?? { status: 'unknown', evidence: '' }, now);
    const whenQuiet = await confirmStatus(quiet, stored, derived ?? { status: 'unknown', evidence: '' }, now);

    expect(derived?.status).toBe('interrupted');
    expect(whileGrowing).toBeNull();
    expect(whenQuiet?.status).toBe('interrupted');
    expect(growing.asked).toEqual(['logs/at20260301/network_train/events.out.tfevents.1.host.2.0']);
  });
});
