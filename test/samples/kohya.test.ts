import { readdirSync, readFileSync, statSync } from 'node:fs';
import { afterEach } from 'vitest';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { readSafetensorsHeader } from '../../src/formats/common/safetensors.ts';
import { isDatasetDoc, parseTomlText } from '../../src/formats/kohya/config.ts';
import { kohya, parseDatasetToml, parseKohyaGuiJson, parseKohyaMetadata, parseKohyaTrainingToml } from '../../src/formats/kohya/index.ts';
import { discoverRuns } from '../../src/sync/discover.ts';
import { eventFile, readLoss } from '../../src/formats/kohya/loss.ts';
import { parseRun } from '../../src/formats/parse-run.ts';
import { createFsDriver } from '../../src/sources/drivers/fs.ts';
import type { ParseContext } from '../../src/formats/types.ts';
import { kohyaMetadata, safetensorsBytes } from '../fixtures/make-kohya.ts';
import { crawl } from '../helpers/crawl.ts';
import { tempTrees } from '../helpers/temp-tree.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const samples = path.resolve(repoRoot, '..', 'shared', 'samples', 'real');

const FOLDERS = ['kohya_toml', 'kohya_ss_gui_json', 'kohya_safetensors', 'akegarasu_lora_scripts'];
const LOKR = 'kohya_safetensors/KohakuBlueleaf__LyCORIS/result/smart_falcon_4_lokr.safetensors';

/** Per training TOML: network_dim, learning_rate (learning_rate, else unet_lr), output_name, family; `undefined` = not in the file. */
const TRAINING: Record<string, { dim?: number; lr?: number; output?: string; family?: string; extra?: Record<string, unknown> }> = {
  'kohya_toml/Alberto-Arias-x64__kohya-server/utils/kohya.toml': {
    dim: 128,
    lr: 6e-5,
    output: '[ID]',
    family: 'flux',
    extra: { epochs: 100, total_steps: 1000, resolution: '1024x1024' },
  },
  'kohya_toml/AshenWitch96__ArchGen/training_config.toml': {
    dim: 32,
    lr: 0.0005,
    output: 'building_4040',
    extra: { lora_alpha: 16, batch_size: 2, epochs: 15 },
  },
  'kohya_toml/NurlanBoranbay__Fine-tuning-diffusion-model-with-LoRA/training_config.toml': {
    dim: 32,
    lr: 1,
    output: 'miles_morales_spiderverse_lora',
    family: 'sdxl',
    extra: { optimizer: 'Prodigy', epochs: 16 },
  },
  'kohya_toml/Off-Live__kohya-lora-training/setting.toml': {
    dim: 8,
    lr: 5e-5,
    extra: { total_steps: 3000, learning_rates: { learning_rate: 5e-5, unet_lr: 5e-5, text_encoder_lr: 2.5e-5 } },
  },
  // A wrapper with one section per model: flattened like sd-scripts, the last section (SD3) wins.
  'kohya_toml/chaoerlie__sdbench/configs/train_lora.toml': {
    dim: 4,
    lr: 1e-4,
    output: 'abstract',
    family: 'sd3',
    extra: { network_module: 'networks.lora_sd3' },
  },
  'kohya_toml/dxrkravehub__HackNU/training_config.toml': { dim: 8, lr: 0.0003, output: 'Aldar_Kose', family: 'sdxl', extra: { batch_size: 3, epochs: 10 } },
  'kohya_toml/evanhu1__easylora/lora_config.toml': { dim: 32, lr: 0.0002, output: 'name', extra: { network_module: 'lycoris.kohya', resolution: '512x512' } },
  'kohya_toml/gen8id__sd-scripts/config-24g.toml': { dim: 128, lr: 1, family: 'sdxl', extra: { lora_alpha: 64, epochs: 15 } },
  'kohya_toml/l1934332574-maker__Kohya-LoRA-Tool/configs/style_lora_gui.toml': {
    dim: 16,
    lr: 0.00015,
    output: 'anime_style_lora',
    family: 'sdxl',
    extra: { total_steps: undefined, epochs: 8 },
  },
  // The deprecated section's learning_rate comes last in the file and wins.
  'kohya_toml/tzwm__sd-scripts/a31_char.toml': {
    dim: 8,
    lr: 0.0005,
    output: 'wusaqi',
    extra: { notes: 'neta_lora', learning_rates: { learning_rate: 0.0005, unet_lr: 1e-4, text_encoder_lr: 2e-5 } },
  },
  'akegarasu_lora_scripts/Akegarasu__lora-scripts/config/default.toml': {
    dim: 32,
    lr: 1e-4,
    output: 'output_name',
    extra: { resolution: '512x512', epochs: 10 },
  },
  'akegarasu_lora_scripts/Akegarasu__lora-scripts/config/lora.toml': { dim: 32, lr: 1e-4, output: 'output_name', extra: { lora_alpha: 16 } },
  'akegarasu_lora_scripts/Akegarasu__lora-scripts/config/presets/chroma.toml': { family: 'chroma' },
  'akegarasu_lora_scripts/Akegarasu__lora-scripts/config/presets/example.toml': { extra: { resolution: '768x768' } },
};

/** Per dataset TOML: [first image_dir, its repeats], number of subsets, resolution. */
const DATASETS: Record<string, [string, number | null, number, string | undefined]> = {
  'kohya_toml/AshenWitch96__ArchGen/dataset_config.toml': ['/content/drive/MyDrive/Loras/building_4040/dataset', 15, 1, '1024x1024'],
  'kohya_toml/MahitMehta__headshots-lora/train/dataset_config.toml': [
    'C:\\Users\\mahit\\Documents\\stable-diffusion\\train\\formatted_dataset\\images',
    10,
    1,
    '1024x1024',
  ],
  'kohya_toml/Off-Live__kohya-lora-training/dataset_config_man.toml': ['/home/nairb/Documents/works/ai/kohya-lora-training/images', 30, 2, '512x512'],
  'kohya_toml/SnowFox999__LoRa/dataset_config.toml': ['/home/nshevtsova/datasets/bcn_org/AK', 2, 7, '512x512'],
  'kohya_toml/chaoerlie__sdbench/configs/datasets.toml': ['train/datasets/Renwu', 8, 1, '1024x1024'],
  'kohya_toml/dxrkravehub__HackNU/dataset_config.toml': ['/content/drive/MyDrive/Loras/Aldar_Kose/dataset', 12, 1, '1024x1024'],
  'kohya_toml/hidetobara__sd-scripts/lora_scz.toml': ['/app/data/scz', 15, 1, '512x512'],
  'kohya_toml/kopyl__train-sd3_5-kohya-sd-scripts/dataset-config.toml': ['dataset', null, 1, '1024x1024'],
  'kohya_toml/l1934332574-maker__Kohya-LoRA-Tool/configs/dataset_config.example.toml': ['请填写训练图片文件夹绝对路径', 5, 1, '1024x1024'],
  'kohya_toml/offline888__gta-lora/dataset.toml': ['D:\\fluxgym\\datasets\\gta-loragta-lora', 10, 1, '512x512'],
  'kohya_toml/ogukei__easy-lora/dataset_config.toml': ['/workspace/images', 2, 1, undefined],
  'kohya_toml/tori29umai0123__CoppyLora_Train/Lineart_dataset.toml': ['/content/CoppyLora_Train/lineart', 4000, 1, '1024x1024'],
  'kohya_toml/woeichern__sd-scripts/config.toml': ['train_images/4_william', 20, 1, '512x512'],
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

const ALL = FOLDERS.flatMap((folder) => filesUnder(path.join(samples, folder))).map((file) => path.relative(samples, file).split(path.sep).join('/'));

describe('samples: formats/kohya', () => {
  it('covers every sample file with an expectation', () => {
    const covered = [...Object.keys(TRAINING), ...Object.keys(DATASETS), LOKR, 'kohya_ss_gui_json/MahitMehta__headshots-lora/train/headshot_train_config.json'];

    expect([...ALL].sort()).toEqual(covered.sort());
  });

  it.each(Object.entries(TRAINING))('reads the training config %s', (file, want) => {
    const text = readFileSync(path.join(samples, file), 'utf8');

    const result = parseKohyaTrainingToml(text);

    expect(result.ok).toBe(true);
    const facts = result.ok ? result.value.facts : undefined;
    expect(facts?.lora_rank).toBe(want.dim);
    expect(facts?.learning_rate).toBe(want.lr);
    expect(facts?.output_name).toBe(want.output);
    expect(facts?.base_model_family).toBe(want.family);
    for (const [key, value] of Object.entries(want.extra ?? {})) {
      expect(facts?.[key as keyof typeof facts], key).toEqual(value);
    }
  });

  it.each(Object.entries(DATASETS))('reads the dataset config %s', (file, [firstDir, repeats, count, resolution]) => {
    const text = readFileSync(path.join(samples, file), 'utf8');
    const doc = parseTomlText(text);

    const result = parseDatasetToml(text);

    expect(doc.ok && isDatasetDoc(doc.value)).toBe(true);
    expect(result.ok).toBe(true);
    const info = result.ok ? result.value : undefined;
    expect(info?.dataset_dirs[0]).toEqual({ path: firstDir, repeats, images: null });
    expect(info?.dataset_dirs).toHaveLength(count);
    expect(info?.resolution).toBe(resolution);
  });

  it('keeps the kohya-colab logging link keys and Windows paths of the configs', () => {
    const colab = parseKohyaTrainingToml(readFileSync(path.join(samples, 'kohya_toml/AshenWitch96__ArchGen/training_config.toml'), 'utf8'));
    const tracker = parseKohyaTrainingToml(readFileSync(path.join(samples, 'kohya_toml/Off-Live__kohya-lora-training/setting.toml'), 'utf8'));

    expect(colab.ok && [colab.value.logging_dir, colab.value.log_prefix]).toEqual(['/content/drive/MyDrive/Loras/_logs', 'building_4040']);
    expect(tracker.ok && [tracker.value.logging_dir, tracker.value.log_tracker_name]).toEqual(['logs', 'lora']);
  });

  it('reads the kohya_ss GUI JSON', () => {
    const text = readFileSync(path.join(samples, 'kohya_ss_gui_json/MahitMehta__headshots-lora/train/headshot_train_config.json'), 'utf8');

    const result = parseKohyaGuiJson(text);

    expect(result.ok).toBe(true);
    const config = result.ok ? result.value : undefined;
    expect(Object.keys(config?.values ?? {})).toHaveLength(230);
    expect(config?.facts).toMatchObject({
      base_model: 'stabilityai/stable-diffusion-xl-base-1.0',
      base_model_family: 'sdxl',
      lora_rank: 32,
      lora_alpha: 32,
      learning_rate: 0.0001,
      epochs: 1,
      total_steps: 1240,
      optimizer: 'AdamW8bit',
      resolution: '1024x1024',
      output_name: 'headshot',
    });
    expect(config?.sample_prompts).toBe('mahitm-headshots-v1.1, Professional headshot of a person');
    expect(config?.dataset_config).toBe('C:/Users/mahit/Documents/stable-diffusion/dataset_config.toml');
  });

  it('reads the ss_* metadata of the LyCORIS LoKr sample', async () => {
    const bytes = readFileSync(path.join(samples, LOKR));
    const header = await readSafetensorsHeader(async (r) => bytes.subarray(r.start, r.end), bytes.length);

    const meta = header.ok && header.metadata ? parseKohyaMetadata(header.metadata) : undefined;

    expect(meta).toMatchObject({
      sessionId: '2097167670',
      startedAt: 1680716500.7709305,
      finishedAt: 1680721307.2415755,
      epoch: 10,
      numEpochs: 10,
      maxTrainSteps: 3010,
      numBatchesPerEpoch: 301,
      tagCount: 471,
      isKohya: true,
    });
    expect(meta?.facts).toMatchObject({
      base_model: 'animefull-final-pruned.safetensors',
      base_model_family: 'sd15',
      lora_rank: 4,
      lora_alpha: 4,
      network_module: 'lycoris.kohya',
      learning_rate: 0.0003,
      learning_rates: { learning_rate: 0.0003, unet_lr: 0.0003, text_encoder_lr: 0.00015 },
      optimizer: 'lion_pytorch.lion_pytorch.Lion(weight_decay=0.1)',
      resolution: '768x768',
      batch_size: 4,
      epochs: 10,
      total_steps: 3010,
      output_name: 'smart_falcon_lokr_3.0e-4',
      notes: 'trigger word is smart falcon \\(umamusume\\)',
      dataset_dirs: [
        { path: '16_smf girl', repeats: 16, images: 43 },
        { path: '4_smf girl', repeats: 4, images: 45 },
        { path: '8_smf girl', repeats: 8, images: 42 },
      ],
    });
    expect(meta?.tagSummary).toHaveLength(50);
    expect(meta?.tagSummary.slice(0, 2)).toEqual([
      { tag: 'smart falcon \\(umamusume\\)', count: 130 },
      { tag: 'hair bow', count: 129 },
    ]);
  });

  it('detects only the folder with kohya weights as a run; TOML-only folders (templates) are not runs', async () => {
    const driver = createFsDriver({ root: samples });
    const found: string[] = [];

    for (const folder of FOLDERS) {
      for await (const run of discoverRuns(driver, folder, [kohya])) {
        if (run.kind === 'run') {
          found.push(run.listing.dir);
        }
      }
    }

    expect(found).toEqual(['kohya_safetensors/KohakuBlueleaf__LyCORIS/result']);
  });

  it('parses the LoKr sample folder into a completed record through the fs driver', async () => {
    const driver = createFsDriver({ root: samples });
    let record;

    for await (const run of discoverRuns(driver, 'kohya_safetensors', [kohya])) {
      if (run.kind === 'run') {
        record = await parseRun(run, { driver, root: { name: 'samples', kind: 'fs', uri: samples }, now: new Date('2100-01-01T00:00:00Z') });
      }
    }

    expect(record).toMatchObject({
      format: 'kohya',
      status: 'completed',
      status_evidence: 'final artifact smart_falcon_4_lokr.safetensors written (epoch 10 of 10)',
      run_id_basis: 'content',
      lora_rank: 4,
      base_model_family: 'sd15',
      started_at: '2023-04-05T17:41:40.770Z',
      finished_at: '2023-04-05T19:01:47.241Z',
      loss_source: 'none',
      artifacts: [{ path: 'smart_falcon_4_lokr.safetensors', size: 647_722, kind: 'weights', epoch: null, step: null }],
      parse_warnings: [],
    });
    expect(record?.tags).toHaveLength(50);
  });

  it('splits the real sd-scripts event file into its 16 epochs by file order (gradient accumulation, 770 micro-batches an epoch)', async () => {
    const key = 'kohya_tfevents/NurlanBoranbay__Fine-tuning-diffusion-model-with-LoRA/logs/events.out.tfevents.1779400078.g004.irgetas.nu.edu.kz.1989074.0';
    const warnings: string[] = [];
    const driver = createFsDriver({ root: samples });
    const ctx: ParseContext = {
      driver,
      root: { name: 'samples', kind: 'fs', uri: samples },
      listing: { dir: path.dirname(key), entries: [], names: [] },
      now: new Date('2100-01-01T00:00:00Z'),
      readText: async () => null,
      readLines: async () => null,
      warn: (message) => warnings.push(message),
    };
    const file = eventFile({ key, size: statSync(path.join(samples, key)).size, mtime: 0 });

    const loss = file ? await readLoss(ctx, [file], { stepsPerEpoch: null, checkpointSteps: async () => new Map() }) : null;

    // Computed independently (Python struct decoder): the points between two loss/epoch_average events, the
    // scalar as mean, last/min over the points, steps = global steps first logged in that epoch (step 0 excluded).
    // Each scalar equals the mean of its 770 points to float32 precision, which confirms the split.
    const EXPECTED: Array<[number, number, number, number]> = [
      [0.12667269, 0.15765963, 0.0033587785, 97],
      [0.1281234, 0.010826211, 0.00241167, 97],
      [0.12385574, 0.025444152, 0.0026803876, 97],
      [0.12271243, 0.09056932, 0.0024610942, 97],
      [0.11663299, 0.03243424, 0.0028865035, 97],
      [0.1121993, 0.13847426, 0.0027718004, 97],
      [0.11378574, 0.07925408, 0.0032652703, 97],
      [0.10849659, 0.037704904, 0.0034935242, 97],
      [0.10677675, 0.010641936, 0.002451797, 97],
      [0.09682119, 0.0976457, 0.0026804153, 97],
      [0.10142243, 0.11168102, 0.0022594454, 97],
      [0.09536801, 0.085515976, 0.0023343004, 97],
      [0.089285724, 0.0101453625, 0.0025282511, 97],
      [0.07577304, 0.026657714, 0.0021144226, 97],
      [0.07637272, 0.080160156, 0.0023183553, 97],
      [0.071873814, 0.041834466, 0.0019897213, 97],
    ];
    expect(warnings).toEqual([]);
    expect(loss?.epochBasis).toBe('file-order');
    expect(loss?.perEpoch).toEqual(EXPECTED.map(([mean, last, min, steps], i) => ({ epoch: i + 1, mean, last, min, steps })));
    expect(loss).toMatchObject({ lossFinal: 0.071873814, lossMin: 0.071873814, bestEpoch: 16, points: 12_320 * 2 + 16 });
  });

  describe('status of the real NurlanBoranbay run, laid out as sd-scripts writes it and copied just now', () => {
    const { tree, cleanup } = tempTrees('kohya-sample-');
    afterEach(cleanup);
    const EVENTS = 'kohya_tfevents/NurlanBoranbay__Fine-tuning-diffusion-model-with-LoRA/logs/events.out.tfevents.1779400078.g004.irgetas.nu.edu.kz.1989074.0';
    /** Wall time of the `loss/epoch_average` point of each epoch in the real event file. */
    const EPOCH_END: Record<number, number> = {
      2: 1779400851.9308171,
      4: 1779401621.9235919,
      6: 1779402438.0170145,
      8: 1779403214.0522885,
      10: 1779404032.7406194,
      12: 1779404805.471659,
      14: 1779405621.063583,
    };

    it('is not running: its own last event is months old although every file was written a minute ago', async () => {
      // training_config.toml: output_dir ./output/model, logging_dir ./output/logs, log_prefix miles_morales, save_every_n_epochs 2, 16 epochs.
      const files: Record<string, string | Uint8Array> = {
        'output/model/training_config.toml': readFileSync(
          path.join(samples, 'kohya_toml/NurlanBoranbay__Fine-tuning-diffusion-model-with-LoRA/training_config.toml'),
        ),
        'output/logs/miles_morales20260521214758/network_train/events.out.tfevents.1779400078.g004.irgetas.nu.edu.kz.1989074.0': readFileSync(
          path.join(samples, EVENTS),
        ),
      };
      for (const [epoch, savedAt] of Object.entries(EPOCH_END)) {
        const meta = kohyaMetadata({
          ss_session_id: '1989074',
          ss_output_name: 'miles_morales_spiderverse_lora',
          ss_training_started_at: '1779400077.5',
          ss_training_finished_at: String(savedAt),
          ss_epoch: epoch,
          ss_num_epochs: '16',
          ss_steps: String(Number(epoch) * 97),
          ss_max_train_steps: '1552',
          ss_gradient_accumulation_steps: '4',
        });
        files[`output/model/miles_morales_spiderverse_lora-${epoch.padStart(6, '0')}.safetensors`] = safetensorsBytes(meta);
      }
      const dir = await tree(files);

      const [run] = (await crawl(dir, { now: new Date() })).filter((r) => r.source.path === 'output/model');

      expect(run?.status).toBe('interrupted');
      expect(run?.status_inputs).toMatchObject({
        last_step: 1358,
        max_steps: 1552,
        final_artifact: null,
        last_activity_source: 'tfevents',
        last_activity_at: '2026-05-21T23:33:10.398Z',
      });
      // The adapter's per-epoch loss is the split asserted value by value above.
      expect(run?.loss_per_epoch.map((e) => [e.epoch, e.steps])).toEqual(Array.from({ length: 16 }, (_, i) => [i + 1, 97]));
    });
  });
});
