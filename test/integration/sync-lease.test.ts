import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { syncCommand } from '../../src/cli/sync.ts';
import { withSyncLeases } from '../../src/sync/sync-lease.ts';
import { createTestApp, EXAMPLES, type TestApp } from './app-context.ts';
import { captureIo } from './cli-io.ts';

let app: TestApp | undefined;
let other: string | undefined;

afterEach(async () => {
  await app?.cleanup();
  app = undefined;
  if (other) {
    await rm(other, { recursive: true, force: true });
  }
});

describe('sync leases per source (real Elasticsearch)', () => {
  it('runs a sync of another source while one source is leased; an overlapping sync is skipped with exit 0, holder, expiry and a skipped report', async () => {
    other = await mkdtemp(path.join(os.tmpdir(), 'lora-lease-b-'));
    await cp(path.join(EXAMPLES, '2025-03-02-cyberpunk-city-r8'), path.join(other, 'r1'), { recursive: true });
    app = await createTestApp();
    const local = app.config.sources[0] as (typeof app.config.sources)[number];
    const config = {
      ...app.config,
      sources: [
        { ...local, name: 'a' },
        { ...local, name: 'b', path: other },
      ],
    };
    const ctx = { ...app.ctx, config };
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held: () => void = () => {};
    const holding = new Promise<void>((resolve) => {
      held = resolve;
    });
    const holder = withSyncLeases(ctx, { sources: ['b'] }, async () => {
      held();
      await gate;
    });
    await holding;

    const disjointIo = captureIo();
    const disjoint = await syncCommand(ctx, { options: { mode: 'full', sources: ['a'] }, rollups: false, example: false }, disjointIo);
    const overlapIo = captureIo();
    const overlap = await syncCommand(ctx, { options: { mode: 'incremental' }, rollups: false, example: false }, overlapIo);
    release();
    await holder;

    expect(disjoint).toBe(0);
    expect(disjointIo.out.join('\n')).toMatch(/^Sync ok/);
    expect(overlap).toBe(0);
    const line = overlapIo.out.join('\n');
    expect(line).toMatch(/^skipped: lease sync:b held by \S+:\d+:[0-9a-f]+ until \d{4}-\d\d-\d\dT[\d:.]+Z \(\d+ s from now\)/);
    const syncId = /sync_id ([0-9a-f-]+)/.exec(line)?.[1] ?? '';
    const doc = await ctx.client.get<{ status: string; errors: { code: string }[] }>({ index: config.indices.sync_runs, id: syncId });
    expect(doc._source).toMatchObject({ status: 'skipped', errors: [{ code: 'lease-held' }] });
  });

  it('releases the leases it took when a later one is held, so the free source is not blocked', async () => {
    app = await createTestApp();
    const local = app.config.sources[0] as (typeof app.config.sources)[number];
    const config = {
      ...app.config,
      sources: [
        { ...local, name: 'a' },
        { ...local, name: 'b' },
      ],
    };
    const ctx = { ...app.ctx, config };
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held: () => void = () => {};
    const holding = new Promise<void>((resolve) => {
      held = resolve;
    });
    const holder = withSyncLeases(ctx, { sources: ['b'] }, async () => {
      held();
      await gate;
    });
    await holding;

    const both = withSyncLeases(ctx, {}, async () => 'ran');
    await expect(both).rejects.toMatchObject({ code: 'lease-held', job: 'sync:b' });
    const onlyA = await withSyncLeases(ctx, { sources: ['a'] }, async () => 'ran');
    release();
    await holder;

    expect(onlyA).toBe('ran');
  });
});
