import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import { createRollupSpool, rollupView } from '../../../src/rollups/spool.ts';
import { createRunWriter } from '../../../src/sync/write.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) {
    rmSync(dir, { recursive: true, force: true });
  }
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spool-test-'));
  dirs.push(dir);
  return dir;
}

const bytes = (o: object) => new TextEncoder().encode(JSON.stringify(o));

async function all(spool: ReturnType<typeof createRollupSpool>) {
  const runs = [];
  for await (const page of spool.pages()) {
    runs.push(...page);
  }
  return runs;
}

describe('rollups/spool', () => {
  it('gives back every run written, in pages, as the rollups read them, from a file without a name', async () => {
    const dir = tempDir();
    const spool = createRollupSpool({ dir });
    spool.arm();
    // Nothing with a name: a killed process leaves nothing behind.
    expect(readdirSync(dir)).toEqual([]);
    for (let i = 0; i < 4500; i++) {
      spool.written(bytes({ run_id: `r${i}`, state: 'active', rollup_keys: i % 2 ? ['rank:8'] : undefined }));
    }

    const runs = await all(spool);
    const again = await all(spool);
    spool.dispose();

    expect(spool.runs).toBe(4500);
    expect(again).toEqual(runs);
    expect(runs.map((r) => r.run_id)).toEqual(Array.from({ length: 4500 }, (_, i) => `r${i}`));
    expect(runs[0]).toMatchObject({ loss_per_epoch: [], rollup_keys: [] });
    expect(runs[1]).toMatchObject({ rollup_keys: ['rank:8'] });
  });

  it('records nothing until armed, and refuses to be read once poisoned', async () => {
    const spool = createRollupSpool({ dir: tempDir() });
    spool.written(bytes({ run_id: 'before' }));
    spool.arm();
    spool.written(bytes({ run_id: 'after' }));
    spool.poison('an update');
    spool.poison('a later reason');
    spool.written(bytes({ run_id: 'ignored' }));

    expect(spool.runs).toBe(1);
    expect(spool.recording).toBe(false);
    expect(spool.poisoned).toBe('an update');
    await expect(all(spool)).rejects.toThrow(/cannot be read: an update/);
    spool.dispose();
  });

  it('gives up past its size cap, and when it has no folder to write in', () => {
    const capped = createRollupSpool({ dir: tempDir(), maxBytes: 100 });
    capped.arm();
    capped.written(bytes({ run_id: 'x'.repeat(60) }));
    capped.written(bytes({ run_id: 'y'.repeat(60) }));
    const homeless = createRollupSpool({ dir: path.join(tempDir(), 'missing', 'folder') });
    homeless.arm();

    expect(capped.poisoned).toBe('the written runs outgrew 100 bytes');
    expect(homeless.recording).toBe(false);
    expect(homeless.poisoned).toMatch(/^no temporary file for the written runs \(ENOENT/);
    capped.dispose();
    homeless.dispose();
  });

  it('views a document as `_source` filtering does: the rollup fields it has (nulls kept), epoch and mean of each point', () => {
    const doc = {
      run_id: 'a',
      status: 'completed',
      lora_rank: null,
      config: { text: 'not read' },
      state: 'active',
      rollup_keys: ['rank:8'],
      rollup_stamp: 5,
      loss_per_epoch: [{ epoch: 1, mean: 0.2, last: 0.1, min: 0.1, steps: 10 }],
    };

    expect(rollupView(doc)).toEqual({
      run_id: 'a',
      status: 'completed',
      lora_rank: null,
      state: 'active',
      rollup_keys: ['rank:8'],
      rollup_stamp: 5,
      loss_per_epoch: [{ epoch: 1, mean: 0.2 }],
    });
    expect(rollupView({ run_id: 'b', loss_per_epoch: [] })).toEqual({ run_id: 'b' });
  });

  it('is stopped by any run write but a whole document (a status update, a vanish mark)', async () => {
    const spool = createRollupSpool({ dir: tempDir() });
    spool.arm();
    const client = { bulk: async () => ({ errors: false, items: [{ update: { status: 200 } }] }) } as unknown as Client;
    const writer = createRunWriter(client, parseConfig({ sources: [] }), spool);

    await writer.add({ op: 'update', id: 'r1', doc: { status: 'completed' } });
    await writer.flush();

    expect(spool.poisoned).toBe('the sync wrote an update of r1');
    spool.dispose();
  });
});
