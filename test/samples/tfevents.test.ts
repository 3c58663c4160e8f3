import { createReadStream } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { readTfEvents } from '../../src/formats/common/tfevents.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const samples = path.resolve(repoRoot, '..', 'shared', 'samples', 'real');

const KOHYA = 'kohya_tfevents/NurlanBoranbay__Fine-tuning-diffusion-model-with-LoRA/logs/events.out.tfevents.1779400078.g004.irgetas.nu.edu.kz.1989074.0';
const T5_MAIN = 'hf_trainer_peft/10844110__t5-summarization-demo/runs/Mar24_22-23-40_DESKTOP-41L2EO3/events.out.tfevents.1742826235.DESKTOP-41L2EO3.107869.0';
const T5_EVAL = 'hf_trainer_peft/10844110__t5-summarization-demo/runs/Mar24_22-23-40_DESKTOP-41L2EO3/events.out.tfevents.1742884204.DESKTOP-41L2EO3.107869.1';
const LAIN_MAIN = 'hf_trainer_peft/Emon2358__serial-lain-ai/runs/Jun29_06-31-19_6a29ce405cda/events.out.tfevents.1719642696.6a29ce405cda.1269.0';
const LAIN_HPARAMS =
  'hf_trainer_peft/Emon2358__serial-lain-ai/runs/Jun29_06-31-19_6a29ce405cda/1719642696.8209522/events.out.tfevents.1719642696.6a29ce405cda.1269.1';

// Expected values were cross-checked with an independent decoder (Python `struct`, not TensorFlow); float32 values
// are their shortest round-tripping decimal (Python: the fewest `%.*g` digits whose struct '<f' packing is unchanged).
describe('samples: formats/common/tfevents', () => {
  it('reads the kohya sd-scripts event file (simple_value, 4 tags at micro-batch cadence)', async () => {
    const result = await readTfEvents(open(KOHYA));

    expect(result.fileVersion).toBe('brain.Event:2');
    expect(result.records).toBe(49_297);
    expect(result.issues).toEqual([]);
    expect(Object.fromEntries(result.pointCounts)).toEqual({
      'loss/current': 12_320,
      'loss/average': 12_320,
      'lr/unet': 12_320,
      'lr/d*lr/unet': 12_320,
      'loss/epoch_average': 16,
    });
    const current = result.scalars.get('loss/current')!;
    expect(current[0]).toEqual({ tag: 'loss/current', step: 0, wallTime: 1779400080.203345, value: 0.05114806 });
    expect(current.at(-1)).toEqual({ tag: 'loss/current', step: 1552, wallTime: 1779406390.3900979, value: 0.041834466 });
    expect(result.scalars.get('loss/average')!.at(-1)?.value).toBe(0.071873814);
    expect(result.scalars.get('lr/d*lr/unet')!.at(-1)?.value).toBe(0.00081280613);
    expect(result.scalars.get('loss/epoch_average')!.map((p) => p.step)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(result.scalars.get('loss/epoch_average')![0]?.value).toBe(0.12667269);
  });

  it('downsamples the kohya series to the limit, keeping first and last', async () => {
    const result = await readTfEvents(open(KOHYA), { maxPointsPerTag: 1000, tags: (tag) => tag === 'loss/current' });

    const points = result.scalars.get('loss/current')!;
    expect([...result.scalars.keys()]).toEqual(['loss/current']);
    expect(points.length).toBeLessThanOrEqual(1000);
    expect(points.length).toBeGreaterThan(500);
    expect(points[0]?.step).toBe(0);
    expect(points.at(-1)?.step).toBe(1552);
  });

  it('reads the HF Trainer main writer and ignores its text summaries', async () => {
    const result = await readTfEvents(open(T5_MAIN));

    expect(result.records).toBe(1729);
    expect(result.issues).toEqual([]);
    expect([...result.scalars.keys()].sort()).toEqual([
      'train/epoch',
      'train/grad_norm',
      'train/learning_rate',
      'train/loss',
      'train/total_flos',
      'train/train_loss',
      'train/train_runtime',
      'train/train_samples_per_second',
      'train/train_steps_per_second',
    ]);
    const loss = result.scalars.get('train/loss')!;
    expect(loss).toHaveLength(430);
    expect(loss[0]).toEqual({ tag: 'train/loss', step: 500, wallTime: 1742826365.0545628, value: 1.9963 });
    expect(loss.at(-1)).toEqual({ tag: 'train/loss', step: 215000, wallTime: 1742880860.5488567, value: 1.7423 });
    expect(result.scalars.get('train/epoch')).toHaveLength(431);
    expect(result.scalars.get('train/total_flos')?.[0]?.value).toBe(2.2882818e17);
  });

  it('reads the post-training eval writer', async () => {
    const result = await readTfEvents(open(T5_EVAL));

    expect(result.records).toBe(11);
    expect(result.scalars.size).toBe(10);
    expect(result.scalars.get('eval/loss')).toEqual([{ tag: 'eval/loss', step: 215337, wallTime: 1742884204.944011, value: 1.6339077 }]);
    expect(result.scalars.get('eval/rouge1')?.[0]?.value).toBe(41.6324);
  });

  it('reads the second HF run, whose train/epoch has one more point than train/loss', async () => {
    const result = await readTfEvents(open(LAIN_MAIN));

    expect(result.records).toBe(27);
    expect(result.scalars.get('train/loss')?.map((p) => p.step)).toEqual([500, 1000, 1500, 2000, 2500, 3000]);
    expect(result.scalars.get('train/loss')?.at(-1)?.value).toBe(0.0081);
    expect(result.scalars.get('train/epoch')?.at(-1)).toEqual({ tag: 'train/epoch', step: 3100, wallTime: 1719645899.3399792, value: 100 });
  });

  it('finds no scalars in an add_hparams sub-run', async () => {
    const result = await readTfEvents(open(LAIN_HPARAMS));

    expect(result.records).toBe(4);
    expect(result.issues).toEqual([]);
    expect(result.scalars.size).toBe(0);
  });
});

// --- internal ---

function open(relative: string): AsyncIterable<Uint8Array> {
  return createReadStream(path.join(samples, relative), { highWaterMark: 64 * 1024 });
}
