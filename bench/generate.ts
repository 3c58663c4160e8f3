import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface GenerateOptions {
  root: string;
  runs: number;
  /** Share of runs with a broken config (become parse_error records). Default 0.01. */
  brokenShare?: number;
  /** Folder writes in flight. Default 64. */
  concurrency?: number;
  /** Seed for the deterministic pseudo-random choices. */
  seed?: number;
}

export type GeneratedFormat = 'lora-scripts-yaml' | 'kohya' | 'hf-peft' | 'llama-factory';

const FORMATS: readonly GeneratedFormat[] = ['lora-scripts-yaml', 'kohya', 'hf-peft', 'llama-factory'];
const PROMPTS = [
  'cyberpunk city at night, 赛博朋克 建筑',
  '水墨山水 ink wash landscape',
  'anime portrait, soft light',
  'product photo, studio lighting',
  '宇宙飞船 spaceship interior',
];
const RANKS = [4, 8, 16, 32, 64];

/**
 * Writes `runs` synthetic run folders of all four formats under `root/<year>/<team>/<run>/`, with realistic
 * file sets (configs, logs with a loss per step, checkpoints, small weights files with a real
 * safetensors header) and a share of broken ones. Deterministic for a given seed.
 */
export async function generateRuns(opts: GenerateOptions): Promise<{ formats: Record<GeneratedFormat, number>; broken: number }> {
  const rand = mulberry32(opts.seed ?? 42);
  const counts: Record<GeneratedFormat, number> = { 'lora-scripts-yaml': 0, kohya: 0, 'hf-peft': 0, 'llama-factory': 0 };
  let broken = 0;
  const concurrency = opts.concurrency ?? 64;
  let next = 0;
  async function worker(): Promise<void> {
    while (next < opts.runs) {
      const i = next++;
      const format = FORMATS[i % FORMATS.length] as GeneratedFormat;
      const isBroken = rand() < (opts.brokenShare ?? 0.01);
      const spec = {
        i,
        rank: RANKS[Math.floor(rand() * RANKS.length)] as number,
        lr: [1e-4, 2e-4, 3e-4, 5e-5][Math.floor(rand() * 4)] as number,
        prompt: PROMPTS[Math.floor(rand() * PROMPTS.length)] as string,
        loss: 0.02 + rand() * 0.1,
        epochs: 2 + Math.floor(rand() * 8),
        broken: isBroken,
      };
      const dir = path.join(opts.root, String(2016 + (i % 10)), `team-${i % 37}`, `${format}-run-${String(i).padStart(7, '0')}`);
      await WRITERS[format](dir, spec);
      counts[format] += 1;
      broken += isBroken ? 1 : 0;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { formats: counts, broken };
}

// --- internal ---

interface Spec {
  i: number;
  rank: number;
  lr: number;
  prompt: string;
  loss: number;
  epochs: number;
  broken: boolean;
}

const WRITERS: Record<GeneratedFormat, (dir: string, spec: Spec) => Promise<void>> = {
  async 'lora-scripts-yaml'(dir, s) {
    await files(dir, {
      'config.yaml': s.broken
        ? 'lora_rank: 8\n  batch_size: [4\n'
        : `train_data_dir: "./data/set-${s.i % 50}"\nbase_model: "./models/v1-5-pruned.safetensors"\nlora_rank: ${s.rank}\nbatch_size: 4\nepochs: ${s.epochs}\nlearning_rate: ${s.lr}\noutput_dir: "./output/run-${s.i}"\nsave_steps: 100\nprompt_example: "${s.prompt}"\n`,
      'logs/train.log': lossLines(
        s,
        (e, step, loss) => `[2025-01-01 10:${String(step % 60).padStart(2, '0')}:00] epoch ${e}/${s.epochs} step ${step} loss ${loss.toFixed(4)}`,
      ),
      'pytorch_lora_weights.safetensors': safetensors({ format: 'pt' }),
      'checkpoints/pytorch_lora_weights_step_100.safetensors': safetensors({ format: 'pt' }),
    });
  },
  async kohya(dir, s) {
    const name = `lora-${s.i}`;
    const meta = {
      ss_session_id: String(1_000_000 + s.i),
      ss_training_started_at: String(1_700_000_000 + s.i * 60),
      ss_output_name: name,
      ss_network_dim: String(s.rank),
      ss_network_alpha: String(s.rank / 2),
      ss_network_module: 'networks.lora',
      ss_learning_rate: String(s.lr),
      ss_num_epochs: String(s.epochs),
      ss_epoch: String(s.epochs),
      ss_sd_model_name: 'v1-5-pruned.safetensors',
      ss_base_model_version: 'sd_v1',
      ss_resolution: '(512, 512)',
      ss_tag_frequency: JSON.stringify({ [`10_set${s.i % 50}`]: { cyberpunk: 12, city: 9, night: 4 } }),
    };
    await files(dir, {
      [`config_lora-20250101-120000.toml`]: s.broken
        ? 'network_dim = [16\n'
        : `pretrained_model_name_or_path = "v1-5-pruned.safetensors"\noutput_name = "${name}"\nnetwork_module = "networks.lora"\nnetwork_dim = ${s.rank}\nlearning_rate = ${s.lr}\nmax_train_epochs = ${s.epochs}\n`,
      [`${name}.safetensors`]: safetensors(meta),
      [`${name}-000001.safetensors`]: safetensors({ ...meta, ss_epoch: '1' }),
      'sample_prompts.txt': `${s.prompt} --n lowres\n`,
    });
  },
  async 'hf-peft'(dir, s) {
    const steps = s.epochs * 10;
    const history = [];
    for (let step = 5; step <= steps; step += 5) {
      history.push({ epoch: step / 10, step, loss: Number((s.loss + 0.5 / step).toFixed(4)), learning_rate: s.lr, grad_norm: 1.1 });
    }
    history.push({
      epoch: s.epochs,
      step: steps,
      train_loss: s.loss + 0.05,
      train_runtime: 100.5,
      train_samples_per_second: 3.2,
      train_steps_per_second: 0.4,
      total_flos: 1e15,
    });
    const state = JSON.stringify(
      {
        best_metric: null,
        best_model_checkpoint: null,
        epoch: s.epochs,
        global_step: steps,
        max_steps: steps,
        num_train_epochs: s.epochs,
        log_history: history,
        train_batch_size: 4,
      },
      null,
      2,
    );
    await files(dir, {
      'adapter_config.json': JSON.stringify(
        {
          peft_type: 'LORA',
          task_type: 'CAUSAL_LM',
          base_model_name_or_path: 'meta-llama/Llama-2-7b-hf',
          r: s.rank,
          lora_alpha: s.rank * 2,
          target_modules: ['q_proj', 'v_proj'],
        },
        null,
        2,
      ),
      'trainer_state.json': s.broken ? '{"log_history": [' : state,
      'train_results.json': JSON.stringify({ epoch: s.epochs, train_loss: s.loss + 0.05, train_runtime: 100.5 }),
      'adapter_model.safetensors': safetensors({ format: 'pt' }),
      'checkpoint-10/trainer_state.json': state,
      'checkpoint-10/adapter_config.json': '{}',
    });
  },
  async 'llama-factory'(dir, s) {
    const total = s.epochs * 10;
    const lines = [];
    for (let step = 5; step <= total; step += 5) {
      lines.push(
        JSON.stringify({
          current_steps: step,
          total_steps: total,
          loss: Number((s.loss + 0.5 / step).toFixed(4)),
          lr: s.lr,
          epoch: step / 10,
          percentage: Math.round((step / total) * 10000) / 100,
          elapsed_time: '0:01:00',
          remaining_time: '0:00:10',
        }),
      );
    }
    await files(dir, {
      'training_args.yaml': s.broken
        ? 'lora_rank: &a [*a\n'
        : `model_name_or_path: Qwen/Qwen2.5-7B-Instruct\nstage: sft\nfinetuning_type: lora\nlora_rank: ${s.rank}\nlearning_rate: ${s.lr}\nnum_train_epochs: ${s.epochs}.0\nper_device_train_batch_size: 2\ndataset: alpaca_zh\noutput_dir: saves/qwen/lora/train_${webuiTime(s.i)}\n`,
      'trainer_log.jsonl': `${lines.join('\n')}\n`,
      'train_results.json': JSON.stringify({ epoch: s.epochs, train_loss: s.loss + 0.05 }),
      'adapter_config.json': JSON.stringify({ peft_type: 'LORA', base_model_name_or_path: 'Qwen/Qwen2.5-7B-Instruct', r: s.rank, lora_alpha: s.rank * 2 }),
    });
  },
};

/** LLaMA-Board names runs by their local start time, one a minute here. */
function webuiTime(i: number): string {
  const d = new Date(Date.UTC(2024, 0, 1) + i * 60_000);
  return d.toISOString().slice(0, 19).replace('T', '-').replaceAll(':', '-');
}

function lossLines(s: Spec, line: (epoch: number, step: number, loss: number) => string): string {
  const out = [];
  let step = 0;
  for (let e = 1; e <= s.epochs; e++) {
    for (let k = 0; k < 5; k++) {
      step += 1;
      out.push(line(e, step, s.loss + 0.2 / (step + 1)));
    }
  }
  return `${out.join('\n')}\ntraining complete\n`;
}

async function files(dir: string, content: Record<string, string | Uint8Array>): Promise<void> {
  const made = new Set<string>();
  for (const [name, data] of Object.entries(content)) {
    const file = path.join(dir, name);
    const parent = path.dirname(file);
    if (!made.has(parent)) {
      await mkdir(parent, { recursive: true });
      made.add(parent);
    }
    await writeFile(file, data);
  }
}

/** A valid safetensors file: header with metadata and one tiny tensor. */
function safetensors(metadata: Record<string, string>): Uint8Array {
  const header = Buffer.from(JSON.stringify({ __metadata__: metadata, 'lora.weight': { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }));
  const out = Buffer.alloc(8 + header.length + 8);
  out.writeBigUInt64LE(BigInt(header.length), 0);
  header.copy(out, 8);
  return out;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
