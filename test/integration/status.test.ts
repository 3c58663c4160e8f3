import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatReport } from '../../src/cli/sync.ts';
import { runSync } from '../../src/sync/run.ts';
import { createTestApp, type TestApp } from './app-context.ts';

let app: TestApp | undefined;

afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

const T0 = new Date('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;

/** Writes a file of the run and dates it, as the trainer would have. */
async function write(root: string, name: string, content: string, mtime: Date): Promise<void> {
  const file = path.join(root, name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  await utimes(file, mtime, mtime);
}

function trainerState(step: number, maxSteps: number): string {
  return JSON.stringify(
    { global_step: step, max_steps: maxSteps, num_train_epochs: 3, log_history: [{ loss: 1.2, learning_rate: 1e-4, epoch: 0.5, step }] },
    null,
    2,
  );
}

async function docsByPath(t: TestApp): Promise<Map<string, Record<string, unknown>>> {
  await t.ctx.client.indices.refresh({ index: t.config.indices.runs });
  const res = await t.ctx.client.search<Record<string, unknown>>({ index: t.config.indices.runs, size: 100 });
  return new Map(res.hits.hits.map((h) => [String((h._source?.source as { path?: string } | undefined)?.path), h._source ?? {}]));
}

describe('sync: time-dependent status (real Elasticsearch)', () => {
  it('turns a running run interrupted on a later sync without reading it again, and counts it', async () => {
    app = await createTestApp({ from: null });
    await write(app.root, 'short/trainer_state.json', trainerState(40, 100), T0);
    await write(app.root, 'short/checkpoint-40/trainer_state.json', trainerState(40, 100), T0);
    await write(app.root, 'done/trainer_state.json', trainerState(100, 100), T0);
    app.setNow(new Date(T0.getTime() + 5 * 60_000));

    const first = await runSync(app.ctx, { mode: 'full' });
    const atFirst = await docsByPath(app);
    app.setNow(new Date(T0.getTime() + 2 * HOUR));
    const second = await runSync(app.ctx, { mode: 'full' });
    const atSecond = await docsByPath(app);
    app.setNow(new Date(T0.getTime() + 3 * HOUR));
    const third = await runSync(app.ctx, { mode: 'full' });

    expect(first.counts).toMatchObject({ found: 2, new: 2, status_updated: 0 });
    expect(atFirst.get('short')).toMatchObject({
      status: 'running',
      status_inputs: {
        last_step: 40,
        max_steps: 100,
        final_artifact: null,
        terminal: null,
        last_activity_at: T0.toISOString(),
        last_activity_source: 'mtime',
        progressed: true,
      },
    });
    expect(atFirst.get('done')).toMatchObject({ status: 'completed' });
    expect(second.status).toBe('ok');
    expect(second.counts).toMatchObject({ found: 2, new: 0, changed: 0, reappeared: 0, unchanged: 1, status_updated: 1, written: 1, failed: 0 });
    expect(atSecond.get('short')).toMatchObject({
      status: 'interrupted',
      indexed_at: atFirst.get('short')?.indexed_at,
      fingerprint: atFirst.get('short')?.fingerprint,
    });
    expect(atSecond.get('short')?.status_evidence).toBe(
      'stopped without final artifact or error; newest file modified 2 h ago (2026-03-01T12:00:00.000Z), 40/100 steps',
    );
    expect(atSecond.get('done')).toEqual(atFirst.get('done'));
    expect(third.counts).toMatchObject({ unchanged: 2, status_updated: 0, written: 0 });
    expect(formatReport(second, null)).toContain('unchanged 1   status updated 1');
    const stored = await app.ctx.client.get<{ counts: Record<string, number> }>({ index: app.config.indices.sync_runs, id: second.sync_id });
    expect(stored._source?.counts.status_updated).toBe(1);
  });
});
