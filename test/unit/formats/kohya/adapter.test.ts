import { statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { discoverRuns } from '../../../../src/sync/discover.ts';
import { adapters } from '../../../../src/formats/index.ts';
import { kohya } from '../../../../src/formats/kohya/index.ts';
import { parseRun } from '../../../../src/formats/parse-run.ts';
import type { RunRecord } from '../../../../src/record/schema.ts';
import { createFsDriver } from '../../../../src/sources/drivers/fs.ts';
import { KOHYA_FIXTURES } from '../../../fixtures/make-kohya.ts';

/** Long after every fixture file was written: nothing counts as "running". */
const LATER = new Date('2100-01-01T00:00:00Z');

async function crawl(now: Date = LATER): Promise<Map<string, RunRecord>> {
  const driver = createFsDriver({ root: KOHYA_FIXTURES });
  const out = new Map<string, RunRecord>();
  for await (const run of discoverRuns(driver, '', adapters)) {
    if (run.kind === 'run') {
      expect(run.adapters.map((a) => a.id)).toEqual(['kohya']);
      out.set(run.listing.dir, await parseRun(run, { driver, root: { name: 'fx', kind: 'fs', uri: KOHYA_FIXTURES }, now }));
    }
  }
  return out;
}

function get(runs: Map<string, RunRecord>, dir: string): RunRecord {
  const run = runs.get(dir);
  expect(run, `run ${dir}`).toBeDefined();
  return run as RunRecord;
}

describe('formats/kohya (fixtures through the fs driver)', () => {
  it('finds exactly the run folders, not templates, shared log folders or project folders', async () => {
    const runs = await crawl();

    expect([...runs.keys()].sort()).toEqual([
      'akegarasu/lora-scripts/output',
      'bad/absurd-header',
      'bad/broken-config',
      'bad/corrupt-events',
      'bad/toml',
      'bad/truncated-header',
      'colab/Loras/building/output',
      'epochs/accum',
      'epochs/fork',
      'epochs/interrupted',
      'epochs/no-evidence/tb/bare20240301101500',
      'gui/proj/model',
      'logonly/tb/sketch20240301101500',
      'steps',
    ]);
  });

  it('reads a completed kohya_ss GUI run: config, metadata, linked log, prompts, artifacts', async () => {
    const run = get(await crawl(), 'gui/proj/model');

    expect(run).toMatchObject({
      format: 'kohya',
      run_id_basis: 'content',
      status: 'completed',
      status_evidence: 'final artifact cat.safetensors written, 30/30 steps (epoch 3 of 3)',
      base_model: 'v1-5-pruned-emaonly.safetensors',
      base_model_family: 'sd15',
      lora_rank: 16,
      lora_alpha: 8,
      learning_rate: 0.0001,
      learning_rates: { learning_rate: 0.0001, unet_lr: 0.0001, text_encoder_lr: 5e-5 },
      batch_size: 2,
      epochs: 3,
      total_steps: 30,
      optimizer: 'bitsandbytes.optim.adamw.AdamW8bit',
      resolution: '512x512',
      network_module: 'networks.lora',
      data_dir: 'C:\\Users\\me\\proj\\img',
      dataset_dirs: [{ path: '10_cat', repeats: 10, images: 4 }],
      tag_summary: [
        { tag: 'cat', count: 4 },
        { tag: 'orange fur', count: 3 },
        { tag: 'sitting', count: 1 },
      ],
      tags: ['cat', 'orange fur', 'sitting'],
      prompts: ['a photo of kitty, orange cat sitting', 'kitty on a sofa'],
      prompt_example: 'a photo of kitty, orange cat sitting',
      notes: 'trigger: kitty',
      output_name: 'cat',
      output_dir: 'C:\\Users\\me\\proj\\model',
      started_at: '2024-03-01T10:15:00.500Z',
      finished_at: '2024-03-01T10:30:00.500Z',
      loss_source: 'tfevents',
      loss_final: 0.25,
      best_epoch: 2,
      best_checkpoint: 'cat-000002.safetensors',
      parse_warnings: [],
    });
    expect(run.loss_min).toBeCloseTo(0.2, 6);
    expect(run.loss_per_epoch.map((e) => [e.epoch, e.steps])).toEqual([
      [1, 10],
      [2, 10],
      [3, 10],
    ]);
    expect(run.loss_per_epoch[1]?.min).toBeCloseTo(0.15, 6);
    expect(run.artifacts).toEqual([
      { path: 'cat-000001.safetensors', size: 969, kind: 'checkpoint', epoch: 1, step: null },
      { path: 'cat-000002.safetensors', size: 969, kind: 'checkpoint', epoch: 2, step: null },
      { path: 'cat.safetensors', size: 969, kind: 'weights', epoch: null, step: null },
    ]);
    expect(run.config.file).toBe('gui/proj/model/config_lora-20240301-101500.toml');
    expect(run.config.syntax).toBe('toml');
    expect(run.config.values['network_dim']).toBe(16);
    expect(run.config.values['wandb_api_key']).toBe('[REDACTED]');
    expect(run.config.text).not.toContain('0123456789abcdef');
  });

  it('links a kohya-colab run to the parent config, the dataset config and the shared _logs folder', async () => {
    const run = get(await crawl(), 'colab/Loras/building/output');

    expect(run).toMatchObject({
      status: 'interrupted',
      base_model: 'sd_xl_base_1.0.safetensors',
      base_model_family: 'sdxl',
      dataset_dirs: [{ path: '/content/drive/MyDrive/Loras/building/dataset', repeats: 15, images: null }],
      output_name: 'building',
      loss_source: 'tfevents',
      loss_per_epoch: [{ epoch: 1, steps: 10 }],
      best_epoch: 1,
      best_checkpoint: 'building-000001.safetensors',
      finished_at: null,
    });
    expect(run.status_evidence).toMatch(
      /^stopped without final artifact or error; last checkpoint save \(ss_training_finished_at\) \d+ days ago \(2024-03-01T10:30:00.500Z\), 10\/30 steps$/,
    );
    expect(run.config.file).toBe('colab/Loras/building/training_config.toml');
    expect(run.config.values['log_prefix']).toBe('building');
  });

  it('links Akegarasu output/ to logs/<output_name><ts> without any config', async () => {
    const run = get(await crawl(), 'akegarasu/lora-scripts/output');

    expect(run).toMatchObject({
      status: 'completed',
      output_name: 'aki',
      loss_source: 'tfevents',
      loss_final: 0.25,
      best_epoch: 2,
      best_checkpoint: 'aki-000002.safetensors',
    });
    expect(run.config).toEqual({ file: null, syntax: 'none', text: null, values: {} });
  });

  it('keeps the same run_id for one invocation (ss_session_id + start time) and differs between invocations', async () => {
    const runs = await crawl();

    expect(get(runs, 'gui/proj/model').run_id).not.toBe(get(runs, 'akegarasu/lora-scripts/output').run_id);
    expect(get(runs, 'steps')).toMatchObject({ run_id: '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b', run_id_basis: 'explicit' });
  });

  it('reads a stand-alone TensorBoard folder as a log-only run', async () => {
    const run = get(await crawl(), 'logonly/tb/sketch20240301101500');

    expect(run).toMatchObject({
      status: 'unknown',
      run_id_basis: 'content',
      loss_source: 'tfevents',
      best_epoch: 2,
      started_at: '2024-03-01T10:15:10.500Z',
      artifacts: [{ path: 'network_train/events.out.tfevents.1709288101.trainbox.4242.0', size: 2556, kind: 'log', epoch: null, step: null }],
    });
    expect(run.loss_final).toBeCloseTo(0.2, 6);
  });

  it('reads step checkpoints with state folders, a prompt file and no final weights as interrupted when old, running when its last save is fresh', async () => {
    const newest = Math.max(
      ...['at-step00000010.safetensors', 'sample_prompts.txt', 'run-id.txt', 'at-step00000010-state/train_state.json'].map(
        (f) => statSync(path.join(KOHYA_FIXTURES, 'steps', f)).mtimeMs,
      ),
    );
    const old = get(await crawl(), 'steps');
    const savedAt = Date.parse(old.status_inputs?.last_activity_at ?? '');

    const fresh = get(await crawl(new Date(savedAt + 60_000)), 'steps');
    const copiedLater = get(await crawl(new Date(newest + 60_000)), 'steps');

    expect(old).toMatchObject({ status: 'interrupted', output_name: 'at', prompts: ['steps test prompt'], finished_at: null });
    expect(old.status_inputs).toMatchObject({ last_activity_source: 'safetensors-metadata', final_artifact: null, progressed: true, terminal: null });
    expect(old.artifacts).toEqual([
      { path: 'at-step00000010-state/train_state.json', size: 40, kind: 'state', epoch: null, step: 10 },
      { path: 'at-step00000010.safetensors', size: 963, kind: 'checkpoint', epoch: null, step: 10 },
    ]);
    expect(fresh.status).toBe('running');
    expect(fresh.status_evidence).toMatch(/^last checkpoint save \(ss_training_finished_at\) 1 min ago/);
    // Fresh file times but an old save time: a copied run, not a running one.
    expect(copiedLater.status).toBe('interrupted');
  });

  it.each([
    ['bad/toml', 'completed', /config_lora-20240301-101500\.toml: invalid TOML/],
    ['bad/truncated-header', 'completed', /cat\.safetensors: truncated/],
    ['bad/corrupt-events', 'completed', /tfevents .*unreadable part/],
  ])('keeps %s as a record with a warning', async (dir, status, warning) => {
    const run = get(await crawl(), dir);

    expect(run.status).toBe(status);
    expect(run.parse_error).toBeNull();
    expect(run.parse_warnings).toEqual([expect.stringMatching(warning)]);
  });

  it('reads what precedes the corruption of an event file', async () => {
    const run = get(await crawl(), 'bad/corrupt-events');

    // Epoch 2's scalar is past the corruption: its readable steps form an unfinished epoch, mean of its steps.
    expect(run.loss_per_epoch).toEqual([
      { epoch: 1, mean: 0.3, last: 0.25, min: 0.25, steps: 10 },
      { epoch: 2, mean: 0.2, last: 0.15, min: 0.15, steps: 5 },
    ]);
  });

  // Expected values from the simulated loop in make-kohya.ts: loss = 0.5 - 0.1 × epoch + 0.01 × micro-batch.
  it.each([
    [
      'epochs/accum',
      'sd-scripts with gradient accumulation: 5 micro-batches, 3 updates an epoch; the update finishing epoch 1 shares its step with epoch 2’s first micro-batch',
      [
        { epoch: 1, mean: 0.42, last: 0.44, min: 0.4, steps: 3 },
        { epoch: 2, mean: 0.32, last: 0.34, min: 0.3, steps: 3 },
      ],
      [],
    ],
    [
      'epochs/fork',
      'a fork logging loss/epoch_average at the global step (4, 8, 12), not the epoch number',
      [
        { epoch: 1, mean: 0.415, last: 0.43, min: 0.4, steps: 4 },
        { epoch: 2, mean: 0.315, last: 0.33, min: 0.3, steps: 4 },
        { epoch: 3, mean: 0.215, last: 0.23, min: 0.2, steps: 4 },
      ],
      [],
    ],
    [
      'epochs/interrupted',
      'no epoch scalar: the epoch checkpoints’ ss_steps (4, 8) end epochs 1 and 2; epoch 3 ran 2 micro-batches',
      [
        { epoch: 1, mean: 0.415, last: 0.43, min: 0.4, steps: 4 },
        { epoch: 2, mean: 0.315, last: 0.33, min: 0.3, steps: 4 },
        { epoch: 3, mean: 0.205, last: 0.21, min: 0.2, steps: 2 },
      ],
      [],
    ],
    ['epochs/no-evidence/tb/bare20240301101500', 'the same log alone: no epoch is invented', [], [expect.stringContaining('nothing maps them to epochs')]],
  ])('splits the step losses of %s into epochs (%s)', async (dir, _why, perEpoch, warnings) => {
    const run = get(await crawl(), dir);

    expect(run.loss_per_epoch).toEqual(perEpoch);
    expect(run.parse_warnings).toEqual(warnings);
    expect(run.loss_source).toBe('tfevents');
  });

  it.each([
    ['bad/absurd-header', 'bad/absurd-header/cat.safetensors', /absurd-length/],
    ['bad/broken-config', 'bad/broken-config/config.toml', /invalid TOML/],
  ])('turns %s, with nothing else readable, into a parse_error naming the file', async (dir, file, message) => {
    const run = get(await crawl(), dir);

    expect(run.status).toBe('parse_error');
    expect(run.parse_error?.file).toBe(file);
    expect(run.parse_error?.message).toMatch(message);
  });

  it('never reads a whole .safetensors file (ranged reads of the header only)', async () => {
    const driver = createFsDriver({ root: KOHYA_FIXTURES });
    const reads: [string, number | undefined][] = [];
    const spy = { ...driver, read: async (key: string, range?: { start: number; end: number }) => (reads.push([key, range?.end]), driver.read(key, range)) };

    for await (const run of discoverRuns(spy, 'gui', [kohya])) {
      if (run.kind === 'run') {
        await parseRun(run, { driver: spy, root: { name: 'fx', kind: 'fs', uri: KOHYA_FIXTURES }, now: LATER });
      }
    }

    const weights = reads.filter(([key]) => key.endsWith('.safetensors'));
    expect(weights.length).toBeGreaterThan(0);
    expect(weights.every(([, end]) => end !== undefined)).toBe(true);
  });
});
