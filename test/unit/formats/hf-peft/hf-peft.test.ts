import { readFileSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempTrees } from '../../../helpers/temp-tree.ts';
import { detectAdapters } from '../../../../src/formats/detect.ts';
import { hfPeft } from '../../../../src/formats/hf-peft/index.ts';
import { matchMarkers } from '../../../../src/formats/kit/markers.ts';
import { adapters } from '../../../../src/formats/index.ts';
import { toListing } from '../../../../src/sources/types.ts';
import { encodeEventFile } from '../common/tfevents-encoder.ts';
import { crawl, LATER, REPO_ROOT } from '../../../helpers/crawl.ts';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/layouts/hf-peft');

function listing(names: string[]) {
  return toListing(
    'run',
    names.map((name) => ({ key: `run/${name}`, size: 1, mtime: 0 })),
  );
}

describe('src/formats/hf-peft', () => {
  const { tree: temp, cleanup } = tempTrees('hf-peft-');
  afterEach(cleanup);

  it.each([
    [['adapter_config.json'], true],
    [['trainer_state.json'], true],
    [['checkpoint-10/trainer_state.json'], true],
    [['last-checkpoint/trainer_state.json'], true],
    [['README.md', 'checkpoint-10/optimizer.pt'], false],
  ])('detect(%j) = %s', (names, expected) => {
    expect(matchMarkers(hfPeft.markers, listing(names))?.run ?? false).toBe(expected);
  });

  it.each([
    [['adapter_config.json'], ['hf-peft']],
    [['adapter_config.json', 'trainer_log.jsonl'], ['llama-factory']],
    [['trainer_state.json', 'running_log.txt'], ['llama-factory']],
    [['checkpoint-10/trainer_state.json', 'training_args.yaml'], ['llama-factory']],
  ])('the core gives %j to %j (LLaMA-Factory outranks the HF Trainer files it also writes)', (names, expected) => {
    expect(detectAdapters(listing(names), adapters).map((a) => a.id)).toEqual(expected);
  });

  it('parses a completed PEFT run with checkpoints as one run', async () => {
    const [run, ...rest] = await crawl(path.join(FIXTURES, 'completed'));

    expect(rest).toEqual([]);
    expect(run).toMatchObject({
      format: 'hf-peft',
      status: 'completed',
      base_model: 'Qwen/Qwen2.5-0.5B-Instruct',
      base_model_family: 'qwen',
      lora_rank: 8,
      lora_alpha: 16,
      target_modules: ['q_proj', 'v_proj'],
      network_module: 'LORA',
      batch_size: 2,
      epochs: 2,
      total_steps: 4,
      loss_final: 1.4,
      loss_min: 1.0,
      best_epoch: 1,
      best_checkpoint: 'checkpoint-2',
      loss_source: 'trainer-state',
      run_id_basis: 'content',
      started_at: '2025-01-02T03:04:05.000Z',
      tags: ['peft:lora', 'task:causal_lm'],
      run_kind: 'training',
      // No training_args.json/.bin: the peak of log_history, flagged as such.
      learning_rate: 0.0002,
      learning_rate_source: 'log_history-peak',
      parse_warnings: [
        'learning_rate: no saved training arguments; used the peak learning_rate logged in trainer_state.json (the scheduled peak, not necessarily the configured rate)',
      ],
    });
    expect(run?.loss_per_epoch).toEqual([
      { epoch: 1, mean: 1.5, last: 1.0, min: 1.0, steps: 2 },
      { epoch: 2, mean: 1.2999999999999998, last: 1.4, min: 1.2, steps: 2 },
    ]);
    expect(run?.eval_metrics).toEqual({
      epoch: 2,
      eval_loss: 1.1,
      eval_runtime: 1.4,
      best_metric: 0.9,
      total_flos: 1000,
      train_loss: 1.4,
      train_runtime: 12.5,
      train_samples_per_second: 3.2,
      train_steps_per_second: 0.32,
    });
    expect(run?.artifacts.map((a) => [a.path, a.kind, a.step, a.epoch])).toEqual([
      ['adapter_model.safetensors', 'weights', null, null],
      ['checkpoint-2', 'checkpoint', 2, 1],
    ]);
    expect(run?.config.syntax).toBe('json');
  });

  it('marks a run with only checkpoints that stopped before max_steps as interrupted, from the newest checkpoint', async () => {
    const [run, ...rest] = await crawl(path.join(FIXTURES, 'checkpoints-only'));

    expect(rest).toEqual([]);
    expect(run).toMatchObject({ status: 'interrupted', total_steps: 10, loss_final: 2.0, loss_min: 2.0, epochs: 5 });
    expect(run?.artifacts.map((a) => a.path)).toEqual(['checkpoint-2', 'checkpoint-4']);
  });

  it('marks the same run as running when a file changed minutes ago', async () => {
    const dir = await temp({ 'checkpoint-2/trainer_state.json': '{"global_step": 2, "max_steps": 10, "log_history": [{"epoch": 0.2, "loss": 1, "step": 2}]}' });

    const [run] = await crawl(dir, { now: new Date(Date.now() + 60_000) });

    expect(run?.status).toBe('running');
  });

  it('reads NaN and Infinity as null and warns', async () => {
    const [run] = await crawl(path.join(FIXTURES, 'nan-state'));

    expect(run).toMatchObject({ status: 'completed', loss_final: 1.25, eval_metrics: { train_loss: 1.375, train_runtime: 3 } });
    expect(run?.parse_warnings).toEqual(['trainer_state.json: 3 NaN/Infinity value(s) read as null']);
  });

  it.each([
    ['malformed JSON', '{"global_step": 3, "log_history": [', 'trainer_state.json'],
    ['an empty file', '', 'trainer_state.json'],
    ['non-UTF-8 bytes', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'trainer_state.json'],
    ['a JSON array', '[1, 2]', 'trainer_state.json'],
  ])('turns a trainer_state.json with %s into a parse_error record', async (_case, content, file) => {
    const dir = await temp({ [file]: content });

    const [run] = await crawl(dir);

    expect(run).toMatchObject({ status: 'parse_error', format: 'hf-peft', parse_error: { file } });
  });

  it('keeps the run and warns when adapter_config.json is broken but the state is fine', async () => {
    const dir = await temp({
      'adapter_config.json': '{"r": 8,',
      'trainer_state.json': '{"global_step": 1, "max_steps": 1, "log_history": [{"loss": 0.5, "epoch": 1, "step": 1}]}',
    });

    const [run] = await crawl(dir);

    expect(run).toMatchObject({ status: 'completed', loss_final: 0.5, lora_rank: null });
    expect(run?.parse_warnings).toHaveLength(1);
    expect(run?.parse_warnings[0]).toMatch(/^adapter_config\.json: /);
  });

  it('falls back to the newest readable checkpoint state when the root one is torn', async () => {
    const dir = await temp({
      'trainer_state.json': '{"global_step": 4, "log_hi',
      'checkpoint-2/trainer_state.json': '{"global_step": 2, "max_steps": 2, "log_history": [{"loss": 0.7, "epoch": 1, "step": 2}]}',
    });

    const [run] = await crawl(dir);

    expect(run).toMatchObject({ loss_final: 0.7, status: 'completed', status_evidence: 'reached its max steps (2/2 steps) without an end marker' });
    expect(run?.parse_warnings[0]).toMatch(/^trainer_state\.json unreadable/);
  });

  it('reads train/loss from TensorBoard files when no trainer_state.json was saved', async () => {
    const events = encodeEventFile([
      {
        wallTime: 1700000000,
        step: 1,
        values: [
          { tag: 'train/loss', value: 2 },
          { tag: 'train/epoch', value: 0.5 },
        ],
      },
      {
        wallTime: 1700000010,
        step: 2,
        values: [
          { tag: 'train/loss', value: 1 },
          { tag: 'train/epoch', value: 1 },
        ],
      },
      {
        wallTime: 1700000020,
        step: 2,
        values: [
          { tag: 'train/train_runtime', value: 20 },
          { tag: 'eval/loss', value: 0.8 },
        ],
      },
    ]);
    const dir = await temp({
      'adapter_config.json': '{"base_model_name_or_path": "openai/whisper-small", "r": 4, "peft_type": "LORA"}',
      'runs/Nov14_22-13-20_box/events.out.tfevents.1700000000.box.77.0': events,
    });

    const [run] = await crawl(dir);

    expect(run).toMatchObject({
      status: 'completed',
      loss_source: 'tfevents',
      loss_final: 1,
      loss_per_epoch: [{ epoch: 1, mean: 1.5, last: 1, min: 1, steps: 2 }],
      eval_metrics: { eval_loss: 0.8 },
      base_model_family: 'whisper',
      started_at: '2023-11-14T22:13:20.000Z',
    });
  });

  it('gives two runs of one config different content identities', async () => {
    const state = (loss: number) => `{"global_step": 1, "max_steps": 1, "log_history": [{"loss": ${loss}, "epoch": 1, "step": 1}]}`;
    const config = '{"r": 8, "base_model_name_or_path": "gpt2"}';
    const dir = await temp({
      'a/adapter_config.json': config,
      'a/trainer_state.json': state(1.5),
      'b/adapter_config.json': config,
      'b/trainer_state.json': state(1.25),
      'c/adapter_config.json': config,
    });
    await utimes(path.join(dir, 'c/adapter_config.json'), LATER, LATER);

    const runs = await crawl(dir);

    expect(runs.map((r) => [r.source.path, r.run_id_basis])).toEqual([
      ['a', 'content'],
      ['b', 'content'],
      ['c', 'location'],
    ]);
    expect(new Set(runs.map((r) => r.run_id)).size).toBe(3);
  });

  it("reads learning rate and optimizer from the newest checkpoint's training_args.bin, redacted like any config", async () => {
    const [run] = await crawl(path.join(FIXTURES, 'args-bin'));

    expect(run).toMatchObject({
      learning_rate: 0.0001,
      learning_rate_source: 'training_args.bin',
      optimizer: 'adamw_torch',
      batch_size: 4,
      epochs: 2,
      output_dir: '/data/runs/qwen-lora',
      run_kind: 'training',
      parse_warnings: [],
    });
    expect(run?.config.values).toMatchObject({ lr_scheduler_type: 'linear', seed: 42, gradient_accumulation_steps: 8, hub_token: '[REDACTED]' });
    expect(JSON.stringify(run)).not.toMatch(/hf_y{10}/);
  });

  it.each([
    ['training_args.json', { 'training_args.json': '{"learning_rate": 0.0004, "optim": "adafactor"}' }, 0.0004, 'training_args.json', 'adafactor', []],
    [
      'a training_args.bin that is a Git LFS pointer',
      { 'training_args.bin': 'version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 4417\n' },
      0.0003,
      'log_history-peak',
      null,
      ['training_args.bin: a Git LFS pointer, not the file', /peak learning_rate logged in trainer_state\.json/],
    ],
  ])('prefers %s, else falls back to the peak logged rate with a warning', async (_, files, rate, source, optimizer, warnings) => {
    const dir = await temp({
      ...files,
      'trainer_state.json':
        '{"global_step": 2, "max_steps": 2, "log_history": [{"epoch": 0.5, "learning_rate": 0.0003, "loss": 2, "step": 1}, {"epoch": 1, "learning_rate": 0.0001, "loss": 1, "step": 2}]}',
    });

    const [run] = await crawl(dir);

    expect([run?.learning_rate, run?.learning_rate_source, run?.optimizer]).toEqual([rate, source, optimizer]);
    expect(run?.parse_warnings).toHaveLength(warnings.length);
    warnings.forEach((w, i) => expect(run?.parse_warnings[i]).toMatch(w));
  });

  it('keeps a run whose saved arguments say do_eval (on for any eval_strategy) and do_train false a training run', async () => {
    const dir = await temp({
      'adapter_config.json': '{"peft_type": "LORA", "r": 8, "lora_alpha": 16, "base_model_name_or_path": "Qwen/Qwen2.5-0.5B"}',
      'training_args.bin': readFileSync(path.join(REPO_ROOT, 'test/fixtures/training-args/training_args.bin')),
    });

    const [run] = await crawl(dir);

    expect([run?.run_kind, run?.learning_rate, run?.learning_rate_source, run?.optimizer]).toEqual(['training', 0.0002, 'training_args.bin', 'adamw_torch']);
  });

  it('takes no peak from a log that ends in warmup (rate still rising), and says so', async () => {
    const dir = await temp({
      'trainer_state.json':
        '{"global_step": 2, "max_steps": 100, "log_history": [{"epoch": 0.01, "learning_rate": 1e-6, "loss": 2, "step": 1}, {"epoch": 0.02, "learning_rate": 2e-6, "loss": 1.9, "step": 2}]}',
    });

    const [run] = await crawl(dir);

    expect([run?.learning_rate, run?.learning_rate_source]).toEqual([null, null]);
    expect(run?.parse_warnings).toEqual([
      'learning_rate: not known; the learning_rate logged in trainer_state.json still rises where the log ends (warmup), so its peak is not the configured rate',
    ]);
  });

  it.each([
    ['at max steps without the train() summary', 'completed', { global_step: 375, max_steps: 375 }, {}],
    ['with the root adapter save_model writes after train()', 'completed', { global_step: 300, max_steps: 375 }, { 'adapter_model.safetensors': 'x' }],
    ['short of max steps', 'running', { global_step: 300, max_steps: 375 }, {}],
  ])('calls a run %s, modified a minute ago, %s', async (_case, status, state, extra) => {
    const dir = await temp({ 'trainer_state.json': JSON.stringify({ ...state, log_history: [{ loss: 0.4, epoch: 1, step: state.global_step }] }), ...extra });
    const mtime = new Date('2026-03-01T12:00:00Z');
    await utimes(path.join(dir, 'trainer_state.json'), mtime, mtime);

    const [run] = await crawl(dir, { now: new Date(mtime.getTime() + 60_000) });

    expect(run?.status).toBe(status);
    expect(run?.status_inputs).toMatchObject({ last_step: state.global_step, max_steps: 375, last_activity_source: 'mtime' });
  });

  it('dates the last activity of a TensorBoard-only run by its events, not by the file times', async () => {
    const events = encodeEventFile([{ wallTime: 1_700_000_000, step: 5, values: [{ tag: 'train/loss', value: 2 }] }]);
    const dir = await temp({
      'adapter_config.json': '{"r": 8, "peft_type": "LORA"}',
      'checkpoint-5/adapter_model.safetensors': 'x',
      'runs/Mar01_12-00-00_host/events.out.tfevents.1700000000.host.1.0': events,
    });

    const [run] = await crawl(dir, { now: new Date() });

    expect(run).toMatchObject({
      status: 'interrupted',
      status_inputs: { last_activity_at: '2023-11-14T22:13:20.000Z', last_activity_source: 'tfevents', last_step: 5 },
    });
  });
});
