import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { adapters } from '../../../../src/formats/index.ts';
import { scanFiles, settleFinals } from '../../../../src/formats/kohya/files.ts';
import { parseRun } from '../../../../src/formats/parse-run.ts';
import type { RunRecord } from '../../../../src/record/schema.ts';
import { createFsDriver } from '../../../../src/sources/drivers/fs.ts';
import { discoverRuns } from '../../../../src/sync/discover.ts';
import { kohyaMetadata, safetensorsBytes } from '../../../fixtures/make-kohya.ts';

// kohya's epoch checkpoints are `<output_name>-NNNNNN`: an output name ending in six digits (a date such as
// `style-240115`) makes the final weights look like epoch 240115 of `style`.
const LATER = new Date('2100-01-01T00:00:00Z');
const NAME = 'style-240115';
const TOML = `output_name = "${NAME}"\nnetwork_module = "networks.lora"\nnetwork_dim = 8\nmax_train_epochs = 2\n`;

let root = '';
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function readRun(files: Record<string, string | Uint8Array>): Promise<RunRecord> {
  root = mkdtempSync(path.join(os.tmpdir(), 'kohya-names-'));
  const dir = path.join(root, 'run');
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  const driver = createFsDriver({ root });
  for await (const run of discoverRuns(driver, '', adapters)) {
    if (run.kind === 'run') {
      return parseRun(run, { driver, root: { name: 'fx', kind: 'fs', uri: root }, now: LATER });
    }
  }
  throw new Error('no run found');
}

const meta = (epoch: string) =>
  safetensorsBytes(
    kohyaMetadata({ ss_output_name: NAME, ss_epoch: epoch, ss_num_epochs: '2', ss_steps: String(Number(epoch) * 15), ss_max_train_steps: '30' }),
  );

describe('formats/kohya: final weights whose output name ends like a checkpoint suffix', () => {
  it.each([
    ['the config names the output', { 'config.toml': TOML, [`${NAME}.safetensors`]: meta('2'), [`${NAME}-000001.safetensors`]: meta('1') }],
    ['no config: the checkpoints name their family', { [`${NAME}.safetensors`]: meta('2'), [`${NAME}-000001.safetensors`]: meta('1') }],
    ['no config, no checkpoint: the metadata names the output', { [`${NAME}.safetensors`]: meta('2') }],
  ])('%s: completed, the final file is the weights', async (_, files) => {
    const run = await readRun(files);

    expect(run.status).toBe('completed');
    expect(run.status_inputs?.final_artifact).toBe(`${NAME}.safetensors`);
    expect(run.output_name).toBe(NAME);
    expect(run.artifacts.find((a) => a.path === `${NAME}.safetensors`)).toMatchObject({ kind: 'weights', epoch: null });
    if (`${NAME}-000001.safetensors` in files) {
      expect(run.artifacts.find((a) => a.path === `${NAME}-000001.safetensors`)).toMatchObject({ kind: 'checkpoint', epoch: 1 });
    }
  });

  it('keeps a real epoch checkpoint a checkpoint when the final weights are missing', async () => {
    const run = await readRun({ 'config.toml': TOML.replace(NAME, 'style'), 'style-000001.safetensors': meta('1') });

    expect(run.status_inputs?.final_artifact).toBeNull();
    expect(run.status).toBe('interrupted');
    expect(run.artifacts).toEqual([expect.objectContaining({ path: 'style-000001.safetensors', kind: 'checkpoint', epoch: 1 })]);
  });
});

describe('settleFinals', () => {
  const listing = (names: string[]) => ({
    dir: 'run',
    names,
    entries: names.map((name, i) => ({ key: `run/${name}`, size: 10, mtime: 1000 + i })),
  });

  it('leaves a folder without the ambiguity as it is (same object)', () => {
    const files = scanFiles(listing(['cat.safetensors', 'cat-000001.safetensors', 'cat-step00000010.safetensors']) as never);

    expect(settleFinals(files, 'cat')).toBe(files);
    expect(files.weights.map((w) => w.parsed.kind)).toEqual(['final', 'epoch', 'step']);
  });

  it('turns the file and the state folder named after the output into the final ones', () => {
    const files = scanFiles(listing([`${NAME}.safetensors`, `${NAME}-state/optimizer.bin`, 'other-000003.safetensors']) as never);
    const settled = settleFinals(files, NAME);

    expect(files.weights.find((w) => w.name === `${NAME}.safetensors`)?.parsed).toMatchObject({ kind: 'epoch', stem: 'style' });
    expect(settled.weights.find((w) => w.name === `${NAME}.safetensors`)?.parsed).toEqual({ stem: NAME, kind: 'final', epoch: null, step: null });
    expect(settled.states[0]?.parsed).toEqual({ stem: NAME, kind: 'final', epoch: null, step: null });
    expect(settled.weights.find((w) => w.name === 'other-000003.safetensors')?.parsed).toMatchObject({ kind: 'epoch', epoch: 3 });
  });
});
