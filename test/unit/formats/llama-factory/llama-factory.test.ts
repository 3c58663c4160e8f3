import { open } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempTrees } from '../../../helpers/temp-tree.ts';
import { toListing } from '../../../../src/sources/types.ts';
import { matchMarkers } from '../../../../src/formats/kit/markers.ts';
import { llamaFactoryMarkers } from '../../../../src/formats/llama-factory/markers.ts';
import { durationSeconds, toTrainerLogLine, TrainerLogLine } from '../../../../src/formats/llama-factory/schema.ts';
import { parseTrainerLogLines } from '../../../../src/formats/llama-factory/trainer-log.ts';
import { parseTrainingArgsYaml } from '../../../../src/formats/llama-factory/training-args.ts';
import { crawl, REPO_ROOT } from '../../../helpers/crawl.ts';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/layouts/llama-factory');

function listing(names: string[]) {
  return toListing(
    'run',
    names.map((name) => ({ key: `run/${name}`, size: 1, mtime: 0 })),
  );
}

describe('src/formats/llama-factory', () => {
  const { tree: temp, cleanup } = tempTrees('llama-factory-');
  afterEach(cleanup);

  it.each([
    [['trainer_log.jsonl'], true],
    [['training_args.yaml', 'train_results.json'], true],
    [['llamaboard_config.yaml', 'checkpoint-5/adapter_config.json'], true],
    [['running_log.txt'], true],
    [['training_args.yaml'], false],
    [['training_args.yaml', 'llamaboard_config.yaml'], false],
    [['trainer_state.json', 'adapter_config.json'], false],
  ])('detect(%j) = %s', (names, expected) => {
    expect(matchMarkers(llamaFactoryMarkers, listing(names))?.run ?? false).toBe(expected);
  });

  it.each([
    ['0:32:48', 1968],
    ['9 days, 21:39:23', 9 * 86400 + 21 * 3600 + 39 * 60 + 23],
    ['1 day, 0:00:05', 86405],
    ['0:00:01.500000', 1.5],
    ['soon', null],
  ])('durationSeconds(%j) = %s', (text, seconds) => {
    expect(durationSeconds(text)).toBe(seconds);
  });

  it.each([
    [{ current_steps: 5, total_steps: 10, loss: 1, learning_rate: 0.1, epoch: 0.5, throughput: '0.00', elapsed_time: '9 days, 21:39:23' }],
    [{ step: 3, total_steps: 9, lr: 0.2, eval_loss: null, loss: 'x', throughput: 12.5, remaining_time: 7 }],
    [{ current_steps: 1, predict_loss: 2, percentage: 10, total_tokens: 100, throughput: '' }],
  ])('toTrainerLogLine(%j) equals the zod schema', (raw) => {
    expect(toTrainerLogLine(raw)).toEqual(TrainerLogLine.parse(raw));
  });

  it('parses a web-UI run with its checkpoint as one run, secrets redacted', async () => {
    const runs = await crawl(path.join(FIXTURES, 'webui'));

    expect(runs).toHaveLength(1);
    const run = runs[0];
    expect(run).toMatchObject({
      format: 'llama-factory',
      status: 'completed',
      source: { path: 'saves/Qwen2.5-0.5B/lora/train_2025-01-02-03-04-05' },
      base_model: 'Qwen/Qwen2.5-0.5B-Instruct',
      base_model_family: 'qwen',
      lora_rank: 8,
      lora_alpha: 16,
      target_modules: ['q_proj', 'v_proj'],
      network_module: 'lora',
      learning_rate: 0.0001,
      batch_size: 2,
      epochs: 2,
      total_steps: 4,
      data_dir: 'data',
      loss_final: 0.5,
      loss_min: 0.5,
      best_epoch: 2,
      loss_source: 'trainer-log',
      run_id_basis: 'content',
      started_at: '2025-01-02T03:04:10.000Z',
      finished_at: '2025-01-02T03:05:01.000Z',
      tags: ['dataset:alpaca_en_demo', 'dataset:identity', 'stage:sft', 'finetuning:lora'],
      parse_warnings: [],
    });
    expect(run?.status_evidence).toBe('trainer_log.jsonl ends with the line train() logs on return, 4/4 steps');
    expect(run?.loss_per_epoch).toEqual([
      { epoch: 1, mean: 1.5, last: 1, min: 1, steps: 2 },
      { epoch: 2, mean: 0.625, last: 0.5, min: 0.5, steps: 2 },
    ]);
    expect(run?.eval_metrics).toEqual({ eval_loss: 0.95, throughput: 1003, epoch: 2, train_loss: 1.06, train_runtime: 41 });
    expect(run?.artifacts).toEqual([{ path: 'checkpoint-4', size: 4, kind: 'checkpoint', epoch: null, step: 4 }]);
    expect(run?.config.syntax).toBe('yaml');
    expect(run?.config.values.hub_token).not.toBe('hf_secret_value');
    expect(run?.config.text).not.toContain('hf_secret_value');
  });

  it('marks a CLI log that stops mid-way without an error as interrupted', async () => {
    const [run] = await crawl(path.join(FIXTURES, 'cli-aborted'));

    expect(run).toMatchObject({ status: 'interrupted', loss_final: 2.5, total_steps: 100, run_id_basis: 'content' });
    expect(run?.status_inputs).toMatchObject({ last_step: 10, max_steps: 100, terminal: null, final_artifact: null, last_activity_source: 'mtime' });
    expect(run?.status_evidence).toMatch(/^stopped without final artifact or error; newest file modified .*, 10\/100 steps$/);
  });

  it('keeps the last of appended runs, skips duplicates and bad lines, with warnings', async () => {
    const [run] = await crawl(path.join(FIXTURES, 'appended'));

    expect(run).toMatchObject({ status: 'completed', loss_final: 2, loss_min: 2, loss_per_epoch: [{ epoch: 1, mean: 3, last: 2, min: 2, steps: 2 }] });
    expect(run?.parse_warnings).toEqual([
      'trainer_log.jsonl: 1 unparsable line(s) skipped',
      'trainer_log.jsonl: 2 appended runs (steps restarted or total_steps changed); kept the last',
      'trainer_log.jsonl: 1 line(s) repeating a logged step ignored (several writers or a resume)',
      'learning_rate: no saved training arguments; used the peak learning_rate logged in trainer_log.jsonl (the scheduled peak, not necessarily the configured rate)',
    ]);
    expect([run?.learning_rate, run?.learning_rate_source]).toEqual([0.00001, 'trainer_log-peak']);
  });

  it('reads an eval-only run: no loss, completed from its results', async () => {
    const [run] = await crawl(path.join(FIXTURES, 'eval-only'));

    expect(run).toMatchObject({
      status: 'completed',
      loss_final: null,
      loss_min: null,
      loss_source: 'none',
      base_model_family: 'llama',
      eval_metrics: { 'predict_bleu-4': 12.5, 'predict_rouge-1': 30.25 },
      tags: ['dataset:law_eval', 'stage:sft', 'finetuning:lora'],
    });
    expect([run?.run_kind, run?.learning_rate, run?.learning_rate_source]).toEqual(['evaluation', null, null]);
    expect(run?.status_evidence).toMatch(/^evaluation only \(/);
  });

  it('does not take a folder with only a saved config for a run', async () => {
    expect(await crawl(path.join(FIXTURES, 'config-only'))).toEqual([]);
  });

  it('keeps the training when an eval-only run was appended to the log', async () => {
    const summary = await parseTrainerLogLines([
      '{"current_steps": 5, "total_steps": 10, "loss": 1.0, "epoch": 0.5}',
      '{"current_steps": 10, "total_steps": 10, "loss": 0.5, "epoch": 1.0}',
      '{"current_steps": 10, "total_steps": 10, "epoch": 1.0}',
      '{"current_steps": 5, "total_steps": 63, "percentage": 7.94}',
    ]);

    expect(summary).toMatchObject({ segments: 2, totalSteps: 10, trainingLines: 2, endLine: true, loss: { final: 0.5 } });
  });

  it('reads NaN in log lines as missing and counts it', async () => {
    const summary = await parseTrainerLogLines([
      '{"current_steps": 1, "total_steps": 2, "loss": NaN, "epoch": 0.5}',
      '{"current_steps": 2, "total_steps": 2, "loss": 1.5, "grad_norm": Infinity, "epoch": 1}',
    ]);

    expect(summary).toMatchObject({ nonFinite: 2, trainingLines: 1, loss: { final: 1.5, min: 1.5 } });
  });

  it.each([
    [
      'an alias bomb',
      'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
    ],
    ['a syntax error', 'model_name_or_path: [unclosed\n'],
    ['a scalar document', 'just text\n'],
  ])('rejects training_args.yaml with %s without throwing', (_case, text) => {
    expect(parseTrainingArgsYaml(text).ok).toBe(false);
  });

  it.each([
    ['an alias bomb', 'a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n'],
    ['non-UTF-8 bytes', new Uint8Array([0x61, 0x3a, 0x20, 0xff, 0xfe, 0x0a])],
    ['an empty file', ''],
  ])('keeps the run and warns when training_args.yaml has %s', async (_case, content) => {
    const dir = await temp({
      'training_args.yaml': content,
      'trainer_log.jsonl': '{"current_steps": 1, "total_steps": 1, "loss": 0.5, "epoch": 1}\n{"current_steps": 1, "total_steps": 1, "epoch": 1}\n',
    });

    const [run] = await crawl(dir);

    expect(run).toMatchObject({ format: 'llama-factory', status: 'completed', loss_final: 0.5, config: { syntax: 'none' } });
    expect(run?.parse_warnings).toHaveLength(1);
    expect(run?.parse_warnings[0]).toMatch(/^training_args\.yaml: /);
  });

  it.each([
    ['non-UTF-8 bytes', new Uint8Array([0xff, 0xfe, 0x00, 0x7b, 0x0a])],
    ['an empty file', ''],
  ])('reads a trainer_log.jsonl with %s without throwing', async (_case, content) => {
    const dir = await temp({ 'trainer_log.jsonl': content });

    const [run] = await crawl(dir);

    expect(run).toMatchObject({ format: 'llama-factory', status: 'unknown', loss_final: null });
  });

  it('streams a ~50 MB trainer_log.jsonl in bounded memory', async () => {
    const dir = await temp({});
    const file = await open(path.join(dir, 'trainer_log.jsonl'), 'w');
    const total = 300_000;
    const pad = 'x'.repeat(20);
    let chunk: string[] = [];
    for (let step = 1; step <= total; step++) {
      chunk.push(
        `{"current_steps": ${step}, "total_steps": ${total}, "loss": ${(1 + (step % 7) / 10).toFixed(4)}, "lr": 1e-05, "epoch": ${(step / 100_000).toFixed(6)}, "percentage": 1.0, "elapsed_time": "1 day, 0:00:00", "remaining_time": "0:00:01", "note": "${pad}"}`,
      );
      if (chunk.length === 10_000) {
        await file.write(`${chunk.join('\n')}\n`);
        chunk = [];
      }
    }
    await file.write(`${chunk.join('\n')}\n`);
    await file.close();
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;

    const [run] = await crawl(dir, { now: new Date(Date.now() + 3_600_000) });

    const growth = process.memoryUsage().heapUsed - before;
    expect(run).toMatchObject({ status: 'completed', total_steps: total, loss_per_epoch: [{ epoch: 1 }, { epoch: 2 }, { epoch: 3 }] });
    expect(run?.loss_final).toBe(1 + (total % 7) / 10);
    expect(growth).toBeLessThan(40 * 1024 * 1024);
  }, 60_000);

  it("reads a CLI run's hyperparameters from the Trainer's training_args.bin (no training_args.yaml)", async () => {
    const [run] = await crawl(path.join(FIXTURES, 'cli-args-bin'));

    expect(run).toMatchObject({
      run_kind: 'training',
      status: 'completed',
      learning_rate: 0.0001,
      learning_rate_source: 'training_args.bin',
      optimizer: 'paged_adamw_8bit',
      batch_size: 2,
      epochs: 2,
      output_dir: 'saves/qwen2.5-7b/lora/sft',
      config: { file: 'training_args.bin', syntax: 'none', text: null },
    });
  });

  it('calls a predict-only folder an evaluation and takes no hyperparameters from its default arguments', async () => {
    const [run] = await crawl(path.join(FIXTURES, 'predict-args-bin'));

    expect(run).toMatchObject({
      run_kind: 'evaluation',
      status: 'completed',
      learning_rate: null,
      learning_rate_source: null,
      optimizer: null,
      epochs: null,
      batch_size: null,
      eval_metrics: { 'predict_bleu-4': 8.5 },
    });
    expect(run?.status_evidence).toMatch(
      /^evaluation only \(only predict_\* results, do_predict: true, generated_predictions\.jsonl, trainer_log\.jsonl holds only prediction progress\); /,
    );
  });

  it('keeps a run that trained as training even when do_predict is set too', async () => {
    const dir = await temp({
      'training_args.yaml': 'do_train: true\ndo_predict: true\nlearning_rate: 1.0e-4\n',
      'trainer_log.jsonl': '{"current_steps": 1, "total_steps": 1, "loss": 1.0, "lr": 1e-4, "epoch": 1.0}\n',
      'predict_results.json': '{"predict_bleu-4": 3.0}',
    });

    const [run] = await crawl(dir);

    expect([run?.run_kind, run?.learning_rate, run?.learning_rate_source]).toEqual(['training', 0.0001, 'config']);
  });

  it('marks a web-UI run whose running_log.txt ends in a traceback as failed, not running', async () => {
    const runningLog = [
      '[INFO|2026-03-01 12:00:00] trainer.py:2243 >> ***** Running training *****',
      '',
      "[INFO|2026-03-01 12:00:10] logging.py:157 >> {'loss': 2.2818, 'learning_rate': 2.5000e-06, 'epoch': 0.29}",
      '',
      'Traceback (most recent call last):',
      '  File "/app/src/llamafactory/launcher.py", line 23, in <module>',
      '    launch()',
      'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB',
      '',
    ].join('\n');
    const dir = await temp({
      'running_log.txt': runningLog,
      'trainer_log.jsonl':
        '{"current_steps": 5, "total_steps": 100, "loss": 2.2818, "lr": 2.5e-06, "epoch": 0.29, "percentage": 5.0, "elapsed_time": "0:00:10", "remaining_time": "0:03:10"}\n',
    });

    const [run] = await crawl(dir, { now: new Date() });

    expect(run).toMatchObject({
      status: 'failed',
      status_evidence: 'running_log.txt: "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", 5/100 steps',
    });
  });

  it('dates a copied web-UI run by its running_log.txt stamps: old stamps in a fresh file are not running', async () => {
    const runningLog = [
      '[INFO|2024-11-26 22:07:06] trainer.py:2243 >> ***** Running training *****',
      '',
      "[INFO|2024-11-26 22:09:06] logging.py:157 >> {'loss': 2.2818, 'learning_rate': 2.5000e-06, 'epoch': 0.29}",
      '',
    ].join('\n');
    const dir = await temp({
      'running_log.txt': runningLog,
      'trainer_log.jsonl':
        '{"current_steps": 5, "total_steps": 100, "loss": 2.2818, "lr": 2.5e-06, "epoch": 0.29, "percentage": 5.0, "elapsed_time": "0:00:10", "remaining_time": "0:03:10"}\n',
    });

    const [run] = await crawl(dir, { now: new Date() });

    expect(run).toMatchObject({ status: 'interrupted', status_inputs: { last_activity_source: 'running-log', last_activity_at: '2024-11-27T12:09:06.000Z' } });
  });
});
