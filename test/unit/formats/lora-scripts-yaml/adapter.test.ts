import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { aggregateTextLoss, aggregateTextLossOf } from '../../../../src/formats/lora-scripts-yaml/log-text.ts';
import { REDACTED } from '../../../../src/record/redact.ts';
import { crawl } from '../../../helpers/crawl.ts';
import { tempTrees } from '../../../helpers/temp-tree.ts';

const { tree, cleanup } = tempTrees('yaml-');

afterEach(cleanup);

/** Fixed clock for the adapters' status decisions. */
const NOW = new Date('2026-01-01T00:00:00Z');

const CONFIG = [
  'train_data_dir: "./data/style_train"',
  'base_model: "./models/Stable-diffusion/v1-5-pruned.safetensors"',
  'lora_rank: 8',
  'batch_size: 4',
  'epochs: 3',
  'learning_rate: 2e-4',
  'output_dir: "./output/my_style_lora"',
  'save_steps: 100',
  'prompt_example: "赛博朋克 建筑, cyberpunk city"',
  'hub_token: "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"',
  '',
].join('\n');

const LOG = [
  '[2025-03-02 09:00:00] start',
  'epoch 1/3 step 1 loss 0.30',
  'epoch 1/3 step 2 loss 0.20',
  'epoch 2/3 step 3 loss 0.10',
  "{'loss': 0.08, 'epoch': 3.0}",
  '[2025-03-02 10:00:00] training complete',
  '',
].join('\n');

const FIXTURE = path.join(import.meta.dirname, '../../../fixtures/layouts/lora-scripts-yaml');

describe('formats/lora-scripts-yaml', () => {
  it('reads the laid-out fixture run (test/fixtures/layouts/lora-scripts-yaml/completed)', async () => {
    const records = await crawl(FIXTURE, { now: NOW });

    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      format: 'lora-scripts-yaml',
      status: 'completed',
      lora_rank: 8,
      learning_rate: 0.0002,
      batch_size: 4,
      source: { path: 'completed' },
    });
  });

  it('reads the article format by value: hyperparameters, loss per epoch from text logs, status, redaction', async () => {
    const dir = await tree({ 'r1/config.yaml': CONFIG, 'r1/logs/train.log': LOG, 'r1/pytorch_lora_weights.safetensors': 'x' });

    const [record] = await crawl(dir, { now: NOW });

    expect(record).toMatchObject({
      format: 'lora-scripts-yaml',
      status: 'completed',
      lora_rank: 8,
      batch_size: 4,
      epochs: 3,
      learning_rate: 0.0002,
      base_model_family: 'sd15',
      data_dir: './data/style_train',
      output_dir: './output/my_style_lora',
      prompt_example: '赛博朋克 建筑, cyberpunk city',
      loss_final: 0.08,
      loss_min: 0.08,
      best_epoch: 3,
      loss_source: 'log-text',
      started_at: '2025-03-02T09:00:00.000Z',
      run_id_basis: 'content',
    });
    expect(record?.loss_per_epoch).toEqual([
      { epoch: 1, mean: 0.25, last: 0.2, min: 0.2, steps: 2 },
      { epoch: 2, mean: 0.1, last: 0.1, min: 0.1, steps: 1 },
      { epoch: 3, mean: 0.08, last: 0.08, min: 0.08, steps: 1 },
    ]);
    expect(record?.config.values.hub_token).toBe(REDACTED);
    expect(JSON.stringify(record)).not.toContain('hf_abcdefghijklmnopqrstuvwxyz');
  });

  it.each([
    ['a config alone (a template) is not a run', { 'tpl/config.yaml': CONFIG }, []],
    ['an empty folder is not a run', { 'empty/.keep': '' }, []],
    ['a log without a config is not a run', { 'x/logs/train.log': LOG }, []],
    [
      "a folder with another format's files is not this format",
      { 'hf/config.yaml': CONFIG, 'hf/train.log': LOG, 'hf/trainer_state.json': '{}', 'hf/adapter_config.json': '{}' },
      ['hf-peft'],
    ],
  ])('%s', async (_name, files, formats) => {
    const dir = await tree(files as Record<string, string>);

    const found = await crawl(dir, { now: NOW });

    expect(found.map((r) => r.format)).toEqual(formats);
  });

  it.each([
    ['malformed YAML', 'lora_rank: 8\n  batch_size: [4\n', /invalid YAML/],
    [
      'a YAML alias bomb',
      `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nlora_rank: 8\n`,
      /invalid YAML|alias/i,
    ],
    ['non-UTF-8 bytes', Buffer.from([0x6c, 0x6f, 0x72, 0x61, 0x5f, 0x72, 0x61, 0x6e, 0x6b, 0x3a, 0x20, 0xff, 0xfe, 0x0a]), /not valid UTF-8/],
  ])('%s becomes a parse_error record naming the file', async (_name, config, message) => {
    const dir = await tree({ 'bad/config.yaml': config, 'bad/logs/train.log': LOG });

    const [record] = await crawl(dir, { now: NOW });

    expect(record?.status).toBe('parse_error');
    expect(record?.parse_error?.file).toBe('bad/config.yaml');
    expect(record?.parse_error?.message).toMatch(message);
  });

  it('streams a large log with bounded memory', async () => {
    const dir = await tree({ 'big/config.yaml': CONFIG, 'big/pytorch_lora_weights.safetensors': 'x' });
    await mkdir(path.join(dir, 'big', 'logs'));
    const out = createWriteStream(path.join(dir, 'big', 'logs', 'train.log'));
    const line = 'epoch 7/9 step 123456 loss 0.04321 lr 2.0e-04 some padding text to make the line longer ......\n';
    const lines = Math.ceil((96 * 1024 * 1024) / line.length);
    for (let i = 0; i < lines; i++) {
      if (!out.write(line)) {
        await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      }
    }
    await new Promise((resolve) => out.end(resolve));
    global.gc?.();
    const before = process.memoryUsage().heapUsed;

    const [record] = await crawl(dir, { now: NOW });

    const grown = process.memoryUsage().heapUsed - before;
    expect(record?.loss_per_epoch).toEqual([{ epoch: 7, mean: 0.04321, last: 0.04321, min: 0.04321, steps: lines }]);
    expect(grown).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);

  it('dates a run by its log stamps: a copy with fresh file times and old stamps is not running', async () => {
    const log = ['[2025-03-02 09:00:00] start', 'epoch 1/3 step 1 loss 0.30', '[2025-03-02 09:10:00] epoch 1/3 step 2 loss 0.20', ''].join('\n');
    const dir = await tree({ 'r1/config.yaml': `${CONFIG}max_train_steps: 30\n`, 'r1/logs/train.log': log, 'r1/checkpoints/step_2.safetensors': 'x' });

    const [record] = await crawl(dir, { now: new Date() });

    expect(record).toMatchObject({
      status: 'interrupted',
      status_inputs: { last_step: 2, max_steps: 30, last_activity_source: 'log-text', last_activity_at: '2025-03-02T23:10:00.000Z' },
    });
  });

  it('reads a small log whole with the same result as streaming it, and streams one with bytes that are not UTF-8', async () => {
    const crlf = LOG.replaceAll('\n', '\r\n');
    const bad = Buffer.concat([Buffer.from('epoch 1/2 step 1 loss 0.5\n'), Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from('epoch 2/2 step 2 loss 0.25')]);
    const dir = await tree({ 'a/config.yaml': CONFIG, 'a/logs/train.log': crlf, 'b/config.yaml': CONFIG, 'b/logs/train.log': bad });

    const records = await crawl(dir, { now: NOW });

    const streamed = await aggregateTextLoss(
      (async function* () {
        yield* LOG.split('\n').slice(0, -1);
      })(),
    );
    expect(records.find((r) => r.source.path === 'a')).toMatchObject({
      loss_per_epoch: streamed.perEpoch,
      loss_final: streamed.lossFinal,
      started_at: streamed.firstTime,
    });
    expect(aggregateTextLossOf(crlf)).toEqual(streamed);
    expect(records.find((r) => r.source.path === 'b')).toMatchObject({
      loss_final: 0.25,
      loss_per_epoch: [
        { epoch: 1, mean: 0.5, last: 0.5, min: 0.5, steps: 1 },
        { epoch: 2, mean: 0.25, last: 0.25, min: 0.25, steps: 1 },
      ],
    });
  });
});

describe('a small log read whole', () => {
  const fragment = fc.constantFrom(
    'epoch 3/10',
    'Epoch 2.5',
    ' step 12',
    'global_step: 40',
    'step',
    ' loss=0.0421',
    "{'loss': 0.05, 'epoch': 2.0}",
    'train_loss nan',
    ' loss: inf',
    '2025-03-02 14:03:11',
    '2025-03-02T14:03:11.250+02:00',
    '2025-13-45 12:00:00',
    'Traceback (most recent call last)',
    'RuntimeError: CUDA out of memory',
    'Killed',
    'training complete',
    '训练完成',
    '\r',
    ' ',
    'lr=0.0001',
    'x',
    'epoch',
    'loss',
    '= ',
    '7',
    '/ 4',
  );
  const line = fc.array(fragment, { maxLength: 6 }).map((parts) => parts.join(' '));
  const log = fc
    .tuple(fc.array(line, { maxLength: 30 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
    .map(([lines, eol, trailing]) => lines.join(eol) + (trailing ? eol : ''));

  it('gives exactly what streaming its lines gives (the whole-text shortcuts change no answer)', async () => {
    await fc.assert(
      fc.asyncProperty(log, async (text) => {
        const lines = text.split('\n');
        if (lines.at(-1) === '') {
          lines.pop();
        }
        const streamed = await aggregateTextLoss(
          (async function* () {
            yield* lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
          })(),
        );
        expect(aggregateTextLossOf(text)).toEqual(streamed);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a line longer than the line cap only up to the cap, as streaming does', async () => {
    const long = `${'x'.repeat(64 * 1024)} Killed step 9 training complete`;
    const text = `epoch 1 step 1 loss 0.5\n${long}\n`;
    const streamed = await aggregateTextLoss(
      (async function* () {
        yield* ['epoch 1 step 1 loss 0.5', long.slice(0, 64 * 1024)];
      })(),
    );
    expect(aggregateTextLossOf(text)).toEqual(streamed);
    expect(streamed).toMatchObject({ failure: null, finished: false, lastStep: 1 });
  });
});
