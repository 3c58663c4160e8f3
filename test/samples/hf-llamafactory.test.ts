import { createReadStream, statSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { readTfEvents } from '../../src/formats/common/tfevents.ts';
import { parseAdapterConfig } from '../../src/formats/common/hf-trainer/adapter-config.ts';
import { parseResultsJson } from '../../src/formats/common/hf-trainer/results.ts';
import { parseTrainerState } from '../../src/formats/common/hf-trainer/trainer-state.ts';
import { parseRunningLog } from '../../src/formats/llama-factory/running-log.ts';
import { parseTrainerLogLines } from '../../src/formats/llama-factory/trainer-log.ts';
import { parseLlamaboardConfig, parseTrainingArgsYaml } from '../../src/formats/llama-factory/training-args.ts';
import { crawl, REPO_ROOT } from '../helpers/crawl.ts';

const SAMPLES = path.resolve(REPO_ROOT, '..', 'shared', 'samples', 'real');
const FORMATS = ['hf_trainer_peft', 'llamafactory'] as const;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(SAMPLES, path.join(e.parentPath, e.name)))
    .sort();
}

function lines(file: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(path.join(SAMPLES, file)), crlfDelay: Number.POSITIVE_INFINITY });
}

const text = (file: string) => readFile(path.join(SAMPLES, file), 'utf8');

/** repo → [global_step, max_steps, has summary, early stopping, last logged loss] for its root trainer_state.json. */
const STATES: Record<string, [number, number, boolean, boolean, number]> = {
  'hf_trainer_peft/10844110__t5-summarization-demo/trainer_state.json': [215337, 215337, true, false, 1.7423],
  'hf_trainer_peft/Dheena731__tinyLlama-finetune/trainer_state.json': [2800, 2808, false, true, 1.025],
  'hf_trainer_peft/O5-7__chat_glm2_in4_LIL_prefix/checkpoint-1000/trainer_state.json': [1000, 3000, false, false, 1.2317],
  'hf_trainer_peft/P4P4N1CK__whisper-large-v2-japanese-5k-steps/last-checkpoint/trainer_state.json': [5000, 5000, false, false, 0.0002],
  'hf_trainer_peft/RohitBind123__falcon-lora-imdb-sentiment/trainer_state.json': [125, 125, false, false, 3.0246],
  'llamafactory/suzushi-tw__luojiu-7b-base/trainer_state.json': [8712, 8712, true, false, 1.3703],
  'llamafactory/syGOAT__Mistral-v0.2-Translator-bf16/checkpoint-500/trainer_state.json': [500, 8660, false, false, 0.6294],
};

/** trainer_log.jsonl → [total_steps, last step, training lines, ends with the post-train line, last loss, segments]. */
const LOGS: Record<string, [number, number, number, boolean, number | null, number]> = {
  'llamafactory/hykun1989__360-LLaMA-Factory-grpo/trainer_log.jsonl': [5100, 202, 202, false, 0.4962, 1],
  'llamafactory/rameyjm7__SFT-Training-LLM/trainer_log.jsonl': [6566, 6565, 656, true, 0.3716, 1],
  'llamafactory/suzushi-tw__luojiu-7b-base/trainer_log.jsonl': [8712, 8712, 1742, true, 1.3703, 1],
  'llamafactory/syGOAT__Mistral-v0.2-Translator-bf16/trainer_log.jsonl': [8660, 8660, 866, true, 0.1333, 1],
  'llamafactory/gi7014__SunXiaochuan-V1/trainer_log.jsonl': [250, 250, 0, false, null, 1],
  'llamafactory/hsc748NLP__NSLLM/trainer_log.jsonl': [2178, 2178, 435, true, 1.9787, 1],
};

/**
 * Every sample repo folder → its runs as [path in the repo, format, status, loss_final], judged long after the files
 * were written. Checkpoint folders are never runs. A root trainer_state.json at its max steps is completed even
 * without the train() summary (375/375, 12030/12030…).
 */
const RUNS: [string, [string, string, string, number | null][]][] = [
  ['hf_trainer_peft/10844110__t5-summarization-demo', [['', 'hf-peft', 'completed', 1.7423]]],
  ['hf_trainer_peft/AriesChen-UPC__GeoLLM', [['', 'hf-peft', 'completed', 0.0028]]],
  ['hf_trainer_peft/Dheena731__tinyLlama-finetune', [['', 'hf-peft', 'unknown', 1.025]]],
  ['hf_trainer_peft/Emon2358__serial-lain-ai', [['', 'hf-peft', 'completed', 0.0081]]],
  ['hf_trainer_peft/Fujump__qlora', [['output', 'hf-peft', 'completed', 0.0886]]],
  ['hf_trainer_peft/Jaong__Checkpoint-of-CPT', [['', 'hf-peft', 'completed', 0.2645]]],
  ['hf_trainer_peft/O5-7__chat_glm2_in4_LIL_prefix', [['', 'hf-peft', 'completed', 1.1963]]],
  ['hf_trainer_peft/One-eyed-warrior__lora-finetuning', [['', 'hf-peft', 'completed', 1.2819]]],
  ['hf_trainer_peft/P4P4N1CK__whisper-large-v2-japanese-5k-steps', [['', 'hf-peft', 'completed', 0.0002]]],
  ['hf_trainer_peft/Ray-Cheng-11__Tau-Bench-Model-Training', [['', 'hf-peft', 'completed', 0]]],
  ['hf_trainer_peft/RohitBind123__falcon-lora-imdb-sentiment', [['', 'hf-peft', 'completed', 3.0246]]],
  ['hf_trainer_peft/Tanisha-anshu__OpenAi-Whisper-small-Braj', [['', 'hf-peft', 'completed', 1.7866]]],
  ['hf_trainer_peft/Tashu014__lora-imdb-distilbert', [['', 'hf-peft', 'completed', 0.349]]],
  ['hf_trainer_peft/aaghaazkhan__law-llm', [['', 'hf-peft', 'completed', 5.0244]]],
  ['hf_trainer_peft/aigoncharov__trainer_state_viz', [['', 'hf-peft', 'completed', 0.0549]]],
  ['hf_trainer_peft/anonymousgigachad__llm-training', [['', 'hf-peft', 'completed', 0.427]]],
  ['hf_trainer_peft/poludmik__qlora-fine-tune', [['output', 'hf-peft', 'completed', 10.3735]]],
  ['hf_trainer_peft/sherryxzhao__lora_alpaca', [['output', 'hf-peft', 'completed', 1.0226]]],
  ['llamafactory/CanerFk__Yelbegen', []],
  ['llamafactory/Jincheng05__HiHappy', []],
  ['llamafactory/LzZzZx328__finetune_LLM', [['', 'llama-factory', 'completed', 0.0067]]],
  [
    'llamafactory/agosalvez__tfm-lora-specialized-adapter',
    [
      ['models/lora_adapters', 'hf-peft', 'unknown', null],
      ['results', 'llama-factory', 'completed', 0.0707],
    ],
  ],
  ['llamafactory/chandlerzuo__rlhf_recsys', [['outputs', 'llama-factory', 'completed', 0.1345]]],
  ['llamafactory/gi7014__SunXiaochuan-V1', [['', 'llama-factory', 'completed', null]]],
  ['llamafactory/hsc748NLP__NSLLM', [['', 'llama-factory', 'completed', 1.9787]]],
  ['llamafactory/hykun1989__360-LLaMA-Factory-grpo', [['', 'llama-factory', 'interrupted', 0.4962]]],
  ['llamafactory/mitaman__12_mitaman_NusAdil_AI', [['Model_Lora', 'llama-factory', 'completed', 0.6945]]],
  [
    'llamafactory/nihappy213__law_LLM',
    [
      ['saves/llama3-8b/lora/eval', 'llama-factory', 'completed', null],
      ['saves/llama3-8b/lora/sft', 'llama-factory', 'completed', 0.7186],
    ],
  ],
  ['llamafactory/rameyjm7__SFT-Training-LLM', [['', 'llama-factory', 'completed', 0.3716]]],
  ['llamafactory/suzushi-tw__luojiu-7b-base', [['', 'llama-factory', 'completed', 1.3703]]],
  ['llamafactory/syGOAT__Mistral-v0.2-Translator-bf16', [['', 'llama-factory', 'completed', 0.1333]]],
  ['llamafactory/travelucky__llm-finetuning-experiments', [['', 'llama-factory', 'completed', null]]],
  ['llamafactory/tuotuofromtiantian__lmy-matrix', [['saves/llama3-8b/lora/sft', 'llama-factory', 'completed', 0.2857]]],
  ['llamafactory/xueh88401-web__qwen2.5-7b-medical-finetune', [['', 'llama-factory', 'completed', 1.5999]]],
];

/**
 * Every sample run → [run_kind, learning_rate, learning_rate_source]. No sample keeps a training_args.bin or .json, so
 * HF runs fall back to the peak learning_rate of trainer_state.json log_history (the exact logged number), LLaMA-Factory
 * CLI runs without a state to the peak `lr` of trainer_log.jsonl; web-UI runs read training_args.yaml; the two
 * predict-only folders are evaluations without a rate; hykun1989's log ends in warmup (rate still rising): no rate.
 */
const RATES: [string, string, [string, number | null, string | null]][] = [
  ['hf_trainer_peft/10844110__t5-summarization-demo', '', ['training', 4.9883902905678084e-5, 'log_history-peak']],
  ['hf_trainer_peft/AriesChen-UPC__GeoLLM', '', ['training', 0.019933333333333334, 'log_history-peak']],
  ['hf_trainer_peft/Dheena731__tinyLlama-finetune', '', ['training', 0.000009999986958775362, 'log_history-peak']],
  ['hf_trainer_peft/Emon2358__serial-lain-ai', '', ['training', 0.000041935483870967746, 'log_history-peak']],
  ['hf_trainer_peft/Fujump__qlora', 'output', ['training', 0.0002, 'log_history-peak']],
  ['hf_trainer_peft/Jaong__Checkpoint-of-CPT', '', ['training', 0.00001817850637522769, 'log_history-peak']],
  ['hf_trainer_peft/O5-7__chat_glm2_in4_LIL_prefix', '', ['training', 0.019933333333333334, 'log_history-peak']],
  ['hf_trainer_peft/One-eyed-warrior__lora-finetuning', '', ['training', 0.00019555555555555556, 'log_history-peak']],
  ['hf_trainer_peft/P4P4N1CK__whisper-large-v2-japanese-5k-steps', '', ['training', 0.000009953333333333333, 'log_history-peak']],
  ['hf_trainer_peft/Ray-Cheng-11__Tau-Bench-Model-Training', '', ['training', 0.0000045, 'log_history-peak']],
  ['hf_trainer_peft/RohitBind123__falcon-lora-imdb-sentiment', '', ['training', 0.0000464, 'log_history-peak']],
  ['hf_trainer_peft/Tanisha-anshu__OpenAi-Whisper-small-Braj', '', ['training', 0.002982, 'log_history-peak']],
  ['hf_trainer_peft/Tashu014__lora-imdb-distilbert', '', ['training', 0.00018986666666666668, 'log_history-peak']],
  ['hf_trainer_peft/aaghaazkhan__law-llm', '', ['training', 0.000019389788875895672, 'log_history-peak']],
  ['hf_trainer_peft/aigoncharov__trainer_state_viz', '', ['training', 0.00001, 'log_history-peak']],
  ['hf_trainer_peft/anonymousgigachad__llm-training', '', ['training', 0.00016, 'log_history-peak']],
  ['hf_trainer_peft/poludmik__qlora-fine-tune', 'output', ['training', 5, 'log_history-peak']],
  ['hf_trainer_peft/sherryxzhao__lora_alpaca', 'output', ['training', 0.0001, 'log_history-peak']],
  ['llamafactory/LzZzZx328__finetune_LLM', '', ['training', null, null]],
  ['llamafactory/agosalvez__tfm-lora-specialized-adapter', 'models/lora_adapters', ['training', null, null]],
  ['llamafactory/agosalvez__tfm-lora-specialized-adapter', 'results', ['training', 0.0005, 'log_history-peak']],
  ['llamafactory/chandlerzuo__rlhf_recsys', 'outputs', ['training', 0.000004995131923687488, 'log_history-peak']],
  ['llamafactory/gi7014__SunXiaochuan-V1', '', ['evaluation', null, null]],
  ['llamafactory/hsc748NLP__NSLLM', '', ['training', 0.00005, 'log_history-peak']],
  ['llamafactory/hykun1989__360-LLaMA-Factory-grpo', '', ['training', null, null]],
  ['llamafactory/mitaman__12_mitaman_NusAdil_AI', 'Model_Lora', ['training', 0.00003, 'config']],
  ['llamafactory/nihappy213__law_LLM', 'saves/llama3-8b/lora/eval', ['evaluation', null, null]],
  ['llamafactory/nihappy213__law_LLM', 'saves/llama3-8b/lora/sft', ['training', 0.0000999913355769784, 'log_history-peak']],
  ['llamafactory/rameyjm7__SFT-Training-LLM', '', ['training', 0.000009999953642250429, 'trainer_log-peak']],
  ['llamafactory/suzushi-tw__luojiu-7b-base', '', ['training', 0.00004999995936372264, 'log_history-peak']],
  ['llamafactory/syGOAT__Mistral-v0.2-Translator-bf16', '', ['training', 0.00004999996750557592, 'log_history-peak']],
  ['llamafactory/travelucky__llm-finetuning-experiments', '', ['training', 0.00005, 'config']],
  ['llamafactory/tuotuofromtiantian__lmy-matrix', 'saves/llama3-8b/lora/sft', ['training', 0.00009990263847374976, 'log_history-peak']],
  ['llamafactory/xueh88401-web__qwen2.5-7b-medical-finetune', '', ['training', 0.00009999989302876316, 'trainer_log-peak']],
];

/**
 * Runs whose only time evidence is file mtimes and that show neither an end marker, a final artifact nor their max
 * steps: right after a copy their files look freshly written, so they read as running until the window passes.
 */
const FRESH_COPY_RUNNING = new Set([
  'hf_trainer_peft/Dheena731__tinyLlama-finetune/',
  'llamafactory/agosalvez__tfm-lora-specialized-adapter/models/lora_adapters',
  'llamafactory/hykun1989__360-LLaMA-Factory-grpo/',
]);

describe('samples: hf_trainer_peft + llamafactory', () => {
  it('reads every sample file with its parser', async () => {
    const files = (await Promise.all(FORMATS.map((f) => filesUnder(path.join(SAMPLES, f))))).flat();
    const seen: Record<string, number> = {};

    for (const file of files) {
      const kind = await readSample(file);
      seen[kind] = (seen[kind] ?? 0) + 1;
    }

    expect(seen).toEqual({
      'trainer_state.json': 30,
      'adapter_config.json': 16,
      results: 36,
      'trainer_log.jsonl': 13,
      'training_args.yaml': 5,
      'llamaboard_config.yaml': 1,
      'running_log.txt': 3,
      tfevents: 5,
    });
  });

  it.each(Object.entries(STATES))('%s', async (file, [globalStep, maxSteps, hasSummary, earlyStopping, lossFinal]) => {
    const parsed = parseTrainerState(await text(file));

    expect(parsed.ok && [parsed.value.globalStep, parsed.value.maxSteps, parsed.value.hasSummary, parsed.value.earlyStopping, parsed.value.loss.final]).toEqual(
      [globalStep, maxSteps, hasSummary, earlyStopping, lossFinal],
    );
  });

  it.each(Object.entries(LOGS))('%s', async (file, [totalSteps, lastStep, trainingLines, endLine, lossFinal, segments]) => {
    const log = await parseTrainerLogLines(lines(file));

    expect([log.totalSteps, log.lastStep, log.trainingLines, log.endLine, log.loss.final, log.segments, log.badLines]).toEqual([
      totalSteps,
      lastStep,
      trainingLines,
      endLine,
      lossFinal,
      segments,
      0,
    ]);
  });

  it('reads the string throughput of the Aug-2024 format as a number', async () => {
    const log = await parseTrainerLogLines(lines('llamafactory/syGOAT__Mistral-v0.2-Translator-bf16/trainer_log.jsonl'));

    expect(log.throughput).toBe(0);
  });

  it.each([
    ['hf_trainer_peft/Dheena731__tinyLlama-finetune/adapter_config.json', null, null, 8, 32],
    ['hf_trainer_peft/sherryxzhao__lora_alpaca/output/adapter_config.json', '/home/nfs01/llama/model/llama-hf/llama-7b-hf', 'llama', 8, 32],
    ['hf_trainer_peft/RohitBind123__falcon-lora-imdb-sentiment/adapter_config.json', 'tiiuae/falcon-rw-1b', 'falcon', 8, 16],
    ['hf_trainer_peft/Tashu014__lora-imdb-distilbert/adapter_config.json', 'distilbert-base-uncased', 'bert', 8, 16],
    ['llamafactory/suzushi-tw__luojiu-7b-base/adapter_config.json', 'suzushi/luojiu-7b_Tokenize_stage', null, 32, 32],
    ['llamafactory/xueh88401-web__qwen2.5-7b-medical-finetune/adapter_config.json', './Qwen2.5-7B-Instruct', 'qwen', 8, 16],
    ['llamafactory/chandlerzuo__rlhf_recsys/outputs/adapter_config.json', 'THUDM/glm-4-9b-chat', 'glm', 16, 32],
  ])('%s', async (file, baseModel, family, rank, alpha) => {
    const parsed = parseAdapterConfig(await text(file));

    expect(parsed.ok && [parsed.value.baseModel, parsed.value.baseModelFamily, parsed.value.rank, parsed.value.alpha]).toEqual([
      baseModel,
      family,
      rank,
      alpha,
    ]);
  });

  it('reads the eval-only web-UI run and the running logs', async () => {
    const args = parseTrainingArgsYaml(await text('llamafactory/gi7014__SunXiaochuan-V1/training_args.yaml'));
    const gi = await parseRunningLog(lines('llamafactory/gi7014__SunXiaochuan-V1/running_log.txt'));
    const lz = await parseRunningLog(lines('llamafactory/LzZzZx328__finetune_LLM/running_log.txt'));

    expect(args.ok && [args.value.args.model_name_or_path, args.value.args.eval_dataset, args.value.args.do_train]).toEqual([
      'Qwen/Qwen2.5-3B-Instruct',
      ['sunxiaochuan'],
      null,
    ]);
    expect([gi.firstTime, gi.trainingStarted, gi.loss.points]).toEqual(['2025-03-06T08:42:56.000Z', false, 0]);
    expect(gi.completionMarker).toMatch(/^logging\.py:157 >> Saving prediction results to /);
    expect([lz.firstTime, lz.trainingStarted, lz.completionMarker]).toEqual([
      '2024-11-26T22:07:06.000Z',
      true,
      'logging.py:162 >> No metric eval_accuracy to plot.',
    ]);
    expect(lz.loss.final).toBe(0.0067);
  });

  it.each(RATES)('%s/%s: run kind and learning rate with its source', async (repo, runPath, expected) => {
    const run = (await crawl(path.join(SAMPLES, repo))).find((r) => r.source.path === runPath);

    expect(run && [run.run_kind, run.learning_rate, run.learning_rate_source]).toEqual(expected);
  });

  it('gives no learning rate for a log that ends while the rate still rises (warmup), and says why', async () => {
    const [run] = await crawl(path.join(SAMPLES, 'llamafactory/hykun1989__360-LLaMA-Factory-grpo'));

    expect(run?.parse_warnings).toContain(
      'learning_rate: not known; the learning_rate logged in trainer_log.jsonl still rises where the log ends (warmup), so its peak is not the configured rate',
    );
  });

  it.each(RUNS)('crawls %s, and judges it the same minutes after a fresh copy unless only file times speak', async (repo, expected) => {
    const newest = Math.max(...(await filesUnder(path.join(SAMPLES, repo))).map((file) => statSync(path.join(SAMPLES, file)).mtimeMs));

    const fresh = await crawl(path.join(SAMPLES, repo), { now: new Date(newest + 5 * 60_000) });

    expect(fresh.map((r) => [r.source.path, r.status])).toEqual(
      expected.map(([dir, , status]) => [dir, FRESH_COPY_RUNNING.has(`${repo}/${dir}`) ? 'running' : status]),
    );
  });

  it.each(RUNS)('crawls %s', async (repo, expected) => {
    const runs = await crawl(path.join(SAMPLES, repo));

    expect(runs.map((r) => [r.source.path, r.format, r.status, r.loss_final])).toEqual(expected);
    expect(runs.flatMap((r) => (r.parse_error ? [r.parse_error] : []))).toEqual([]);
  });
});

// --- internal ---

/** Reads one sample with the parser for its kind; fails the test for a file no parser claims or one that does not parse. */
async function readSample(file: string): Promise<string> {
  const name = path.basename(file);
  if (name === 'trainer_state.json') {
    expect(parseTrainerState(await text(file)).ok, file).toBe(true);
    return name;
  }
  if (name === 'adapter_config.json') {
    expect(parseAdapterConfig(await text(file)).ok, file).toBe(true);
    return name;
  }
  if (name.endsWith('_results.json')) {
    const parsed = parseResultsJson(await text(file));
    expect(parsed.ok && Object.keys(parsed.value).length > 0, file).toBe(true);
    return 'results';
  }
  if (name === 'trainer_log.jsonl') {
    const log = await parseTrainerLogLines(lines(file));
    expect([log.badLines, log.lines > 0], file).toEqual([0, true]);
    return name;
  }
  if (name === 'training_args.yaml') {
    expect(parseTrainingArgsYaml(await text(file)).ok, file).toBe(true);
    return name;
  }
  if (name === 'llamaboard_config.yaml') {
    expect(parseLlamaboardConfig(await text(file)).ok, file).toBe(true);
    return name;
  }
  if (name === 'running_log.txt') {
    expect((await parseRunningLog(lines(file))).firstTime, file).not.toBeNull();
    return name;
  }
  if (name.startsWith('events.out.tfevents.')) {
    const result = await readTfEvents(createReadStream(path.join(SAMPLES, file)));
    expect([result.issues, result.records > 0], file).toEqual([[], true]);
    return 'tfevents';
  }
  throw new Error(`no parser for sample ${file}`);
}
