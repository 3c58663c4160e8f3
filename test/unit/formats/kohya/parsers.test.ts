import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { toListing } from '../../../../src/sources/types.ts';
import { parseDatasetToml, parseKohyaMetadata, parseKohyaTrainingToml, parseSamplePrompts } from '../../../../src/formats/kohya/index.ts';
import { candidateDirs } from '../../../../src/formats/kohya/log-link.ts';
import { detectAdapters } from '../../../../src/formats/detect.ts';
import { adapters } from '../../../../src/formats/index.ts';
import { matchMarkers } from '../../../../src/formats/kit/markers.ts';
import { kohyaMarkers } from '../../../../src/formats/kohya/markers.ts';
import { parseWeightsName } from '../../../../src/formats/kohya/names.ts';
import { KOHYA_FIXTURES, kohyaFixtureFiles } from '../../../fixtures/make-kohya.ts';

function listing(dir: string, files: [string, number?][]): ReturnType<typeof toListing> {
  const prefix = dir === '' ? '' : `${dir}/`;
  return toListing(
    dir,
    files.map(([name, size]) => ({ key: `${prefix}${name}`, size: size ?? 1000, mtime: 0 })),
  );
}

describe('formats/kohya/names', () => {
  it.each([
    ['cat.safetensors', { stem: 'cat', kind: 'final', epoch: null, step: null }],
    ['cat-000004.safetensors', { stem: 'cat', kind: 'epoch', epoch: 4, step: null }],
    ['my-lora-step00000500.safetensors', { stem: 'my-lora', kind: 'step', epoch: null, step: 500 }],
    ['epoch-000001.safetensors', { stem: 'epoch', kind: 'epoch', epoch: 1, step: null }],
    ['last.safetensors', { stem: 'last', kind: 'final', epoch: null, step: null }],
    ['adapter_model.safetensors', null],
    ['pytorch_lora_weights.safetensors', null],
    ['diffusion_pytorch_model.fp16.safetensors', null],
    ['model-00001-of-00002.safetensors', null],
    ['notes.txt', null],
  ])('parses the weights name %s', (name, want) => {
    expect(parseWeightsName(name)).toEqual(want);
  });

  it.each([
    ['single final LoRA', 'out', [['cat.safetensors']], true],
    ['epoch checkpoints only', 'out', [['cat-000001.safetensors'], ['cat-000002.safetensors']], true],
    ['kohya_ss GUI output', 'model', [['config_lora-20240301-101500.toml'], ['x.safetensors'], ['y.safetensors']], true],
    ['a library of unrelated LoRAs', 'loras', [['a.safetensors'], ['b.safetensors'], ['c.safetensors']], false],
    ['a lone base model', 'models', [['sd_xl_base_1.0.safetensors', 6_900_000_000]], false],
    ['TOML template only', 'config', [['default.toml'], ['lora.toml']], false],
    ['TOML + state, no weights', 'out', [['cfg.toml'], ['cat-000001-state/train_state.json']], true],
    ['HF model folder', 'out', [['config.json'], ['model.safetensors']], false],
    ['stand-alone log folder', 'tb/cat20240301101500', [['network_train/events.out.tfevents.1.h.1.0']], true],
    ['log folder under logs/ (belongs to the folder holding logs/)', 'proj/logs/cat20240301101500', [['network_train/events.out.tfevents.1.h.1.0']], false],
    ['log folder under _logs/ (kohya-colab)', 'Loras/_logs/cat20240301101500', [['network_train/events.out.tfevents.1.h.1.0']], false],
    ['tracker folder itself', 'tb/cat20240301101500/network_train', [['events.out.tfevents.1.h.1.0']], false],
  ] as const)('detects %s: %s', (_label, dir, files, want) => {
    const found = matchMarkers(
      kohyaMarkers,
      listing(
        dir,
        files.map((f) => [...f] as [string, number?]),
      ),
    );

    expect(found?.run ?? false).toBe(want);
  });

  it.each([
    ['PEFT adapter', [['adapter_config.json'], ['adapter_model.safetensors'], ['cat.safetensors']], ['hf-peft']],
    ['HF trainer checkpoint', [['cat.safetensors'], ['checkpoint-10/trainer_state.json']], ['hf-peft']],
    ['LLaMA-Factory', [['cat.safetensors'], ['trainer_log.jsonl']], ['llama-factory']],
    ['lora-scripts YAML run', [['config.yaml'], ['pytorch_lora_weights.safetensors'], ['last.safetensors']], ['lora-scripts-yaml']],
    ['lora-scripts YAML config next to a stand-alone log folder', [['config.yaml'], ['network_train/events.out.tfevents.1.h.1.0']], []],
    ['kohya TOML next to a YAML run', [['cfg.toml'], ['config.yaml'], ['train.log'], ['cat-000001.safetensors']], ['kohya']],
  ] as const)('leaves a folder with kohya-named files to the surer format (%s): %j', (_label, files, want) => {
    const found = detectAdapters(
      listing(
        'out/cat20240301101500',
        files.map((f) => [...f] as [string, number?]),
      ),
      adapters,
    );

    expect(found.map((a) => a.id)).toEqual(want);
  });
});

describe('formats/kohya/config', () => {
  it('flattens sections with the last key winning, drops a BOM and treats "" as unset', () => {
    const text = '\uFEFF# c\noutput_name = "top"\n[a]\nnetwork_dim = 8\nmax_train_steps = ""\n[b]\nnetwork_dim = 16\nlearning_rate = "1e-4"\n';

    const result = parseKohyaTrainingToml(text);

    expect(result.ok && result.value.values).toEqual({ output_name: 'top', network_dim: 16, max_train_steps: '', learning_rate: '1e-4' });
    expect(result.ok && result.value.facts).toMatchObject({ output_name: 'top', lora_rank: 16, learning_rate: 1e-4, total_steps: undefined });
  });

  it('reads Windows paths in basic and literal strings', () => {
    const result = parseKohyaTrainingToml('output_dir = "C:\\\\out\\\\x"\nlogging_dir = \'D:\\logs\'\n');

    expect(result.ok && [result.value.facts.output_dir, result.value.logging_dir]).toEqual(['C:\\out\\x', 'D:\\logs']);
  });

  it.each(['network_dim = = 3', '[section\nx = 1', 'a = "unterminated'])('reports malformed TOML %j as a result, not a throw', (text) => {
    expect(parseKohyaTrainingToml(text)).toMatchObject({ ok: false, message: expect.stringMatching(/^invalid TOML/) });
    expect(parseDatasetToml(text)).toMatchObject({ ok: false });
  });

  it('applies [general] and dataset-level defaults to subsets', () => {
    const text =
      '[general]\nnum_repeats = 3\nbatch_size = 4\n[[datasets]]\nresolution = [768, 512]\n[[datasets.subsets]]\nimage_dir = "a"\n[[datasets.subsets]]\nimage_dir = "b"\nnum_repeats = 9\n[[datasets.subsets]]\nnum_repeats = 1\n';

    const result = parseDatasetToml(text);

    expect(result.ok && result.value).toEqual({
      dataset_dirs: [
        { path: 'a', repeats: 3, images: null },
        { path: 'b', repeats: 9, images: null },
      ],
      resolution: '768x512',
      batch_size: 4,
    });
  });
});

describe('formats/kohya/metadata', () => {
  it('survives absurd values and non-JSON JSON-in-string fields', () => {
    const meta = parseKohyaMetadata({
      ss_network_dim: 'None',
      ss_tag_frequency: '{not json',
      ss_dataset_dirs: '[1, 2]',
      ss_resolution: '(0, 512)',
      ss_v2: 'True',
    });

    expect(meta).toMatchObject({ tagSummary: [], tagCount: 0, isKohya: true });
    expect(meta.facts).toMatchObject({ lora_rank: undefined, dataset_dirs: [], resolution: undefined, base_model_family: 'sd2' });
  });

  it('stores learning rates widened from float32 as their shortest float32 decimal, float64 ones as written', () => {
    // str(float(np.float32(0.06))) and str(float(np.float32(5e-5))): what a GUI passing float32 values leaves behind.
    const meta = parseKohyaMetadata({
      ss_learning_rate: '0.05999999865889549',
      ss_unet_lr: '4.999999873689376e-05',
      ss_text_encoder_lr: '1e-05',
      ss_network_alpha: '0.5',
      ss_training_started_at: '1680716500.7709305',
    });

    expect(meta.facts.learning_rates).toEqual({ learning_rate: 0.06, unet_lr: 0.00005, text_encoder_lr: 0.00001 });
    expect(meta.facts.learning_rate).toBe(0.06);
    expect(meta.facts.lora_alpha).toBe(0.5);
    expect(meta.startedAt).toBe(1680716500.7709305);
  });

  it.each([
    [{ ss_base_model_version: 'sdxl_base_v1-0' }, 'sdxl'],
    [{ ss_base_model_version: 'flux1' }, 'flux'],
    [{ ss_base_model_version: '5-large' }, 'sd3'],
    [{ 'modelspec.architecture': 'stable-diffusion-xl-v1-base/lora' }, 'sdxl'],
    [{ ss_network_module: 'networks.lora_flux', ss_v2: 'False' }, 'flux'],
    [{ ss_v2: 'False' }, 'sd15'],
    [{ ss_network_module: 'networks.lora' }, undefined],
  ])('derives the family from %j', (record, family) => {
    expect(parseKohyaMetadata(record).facts.base_model_family).toBe(family);
  });

  it('merges tag counts over dataset folders and keeps the top 50', () => {
    const tags = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`t${i}`, i + 1]));
    const meta = parseKohyaMetadata({ ss_tag_frequency: JSON.stringify({ '1_a': tags, '2_b': { t0: 100 } }) });

    expect(meta.tagCount).toBe(60);
    expect(meta.tagSummary).toHaveLength(50);
    expect(meta.tagSummary.slice(0, 2)).toEqual([
      { tag: 't0', count: 101 },
      { tag: 't59', count: 60 },
    ]);
  });
});

describe('formats/kohya/prompts', () => {
  it('strips options, comments and blank lines from a prompt .txt', () => {
    expect(parseSamplePrompts('# x\n\na cat --n dog, blurry --w 512\n  --n only negative\nplain\r\n', 'p.txt')).toEqual(['a cat', 'plain']);
  });

  it('collects prompt keys from .toml and .json prompt files', () => {
    expect(parseSamplePrompts('[prompt]\nwidth = 512\n[[prompt.subset]]\nprompt = "one"\n[[prompt.subset]]\nprompt = "two --n x"\n', 'p.toml')).toEqual([
      'one',
      'two',
    ]);
    expect(parseSamplePrompts('[{"prompt": "a"}, {"prompt": "b", "negative_prompt": "c"}]', 'p.json')).toEqual(['a', 'b']);
  });
});

describe('formats/kohya/log-link', () => {
  it.each([
    [
      'relative output_dir and logging_dir (sd-scripts cwd)',
      { runDir: 'proj/output/model', output_dir: './output/model', logging_dir: './output/logs' },
      'proj/output/logs',
    ],
    ['parent-relative paths', { runDir: 'x/output_models', output_dir: '../output_models', logging_dir: '../logs' }, 'x/logs'],
    [
      'absolute Colab paths',
      { runDir: 'Loras/b/output', output_dir: '/content/drive/MyDrive/Loras/b/output', logging_dir: '/content/drive/MyDrive/Loras/_logs' },
      'Loras/_logs',
    ],
    ['Windows paths', { runDir: 'p/model', output_dir: 'C:\\u\\p\\model', logging_dir: 'C:\\u\\p\\log' }, 'p/log'],
  ])('resolves the logging_dir first for %s', (_label, hints, first) => {
    expect(candidateDirs({ ...hints, stems: [] })[0]).toBe(first);
  });

  it('tries the tail of an absolute logging_dir below the root when output_dir does not map', () => {
    expect(candidateDirs({ runDir: 'r', logging_dir: '/mnt/a/b/logs', stems: [] })).toEqual(['mnt/a/b/logs', 'a/b/logs', 'b/logs', 'logs']);
  });

  it('guesses sibling log folders without a config and never climbs above the root', () => {
    expect(candidateDirs({ runDir: 'output', stems: ['aki'] })).toEqual(['logs', 'log', '_logs']);
  });
});

describe('test/fixtures/make-kohya', () => {
  it('matches the committed binary fixtures', () => {
    for (const [rel, bytes] of kohyaFixtureFiles()) {
      expect(Buffer.compare(readFileSync(path.join(KOHYA_FIXTURES, rel)), Buffer.from(bytes)), rel).toBe(0);
    }
  });
});
