import type { LearningRateSource, RunRecord } from '../../record/schema.ts';
import type { DirListing, FormatAdapter, ParseContext, RunDraft } from '../types.ts';
import { argsFacts, decideRunKind, pickLearningRate, statePeak, trainerKindEvidence, type RunKindEvidence } from '../common/hf-trainer/args-facts.ts';
import { modelFamily } from '../common/hf-trainer/adapter-config.ts';
import { digest, isoOf, readRunIdFile } from '../common/hf-trainer/identity.ts';
import { checkpointSteps, hasFile, keyOf, newestMtime, rootWeights, trainerArtifacts } from '../common/hf-trainer/listing.ts';
import { readParsedFile, readTrainerFiles, type TrainerFiles } from '../common/hf-trainer/read-run.ts';

import { llamaFactoryMarkers } from './markers.ts';
import { parseRunningLog, type RunningLogSummary } from './running-log.ts';
import { llamaFactoryStatus } from './status.ts';
import { parseTrainerLogLines, type TrainerLogSummary } from './trainer-log.ts';
import { parseLlamaboardConfig, parseTrainingArgsYaml, type LlamaboardInfo, type TrainingArgsInfo } from './training-args.ts';
import type { ParseResult } from '../kit/result.ts';

/** LLaMA-Factory output dirs (CLI and LlamaBoard web UI). See readme.md. */
export const llamaFactory: FormatAdapter = {
  id: 'llama-factory',
  aliases: ['llamafactory', 'llama_factory'],
  markers: llamaFactoryMarkers,
  parse: parseLlamaFactory,
};

/** Web-UI run folders are named by their local start time: `train_2024-09-06-16-42-39`. */
const WEBUI_DIR = /^(train|eval)_(\d{4}-\d{2}-\d{2})-(\d{2})-(\d{2})-(\d{2})$/;

export async function parseLlamaFactory(ctx: ParseContext): Promise<RunDraft> {
  const { listing } = ctx;
  const files = await readTrainerFiles(ctx, { stateRequired: false });
  const training = await readYaml(ctx, 'training_args.yaml', parseTrainingArgsYaml);
  const board = await readYaml(ctx, 'llamaboard_config.yaml', parseLlamaboardConfig);
  const log = await readTrainerLog(ctx);
  const runningLog = await readRunningLog(ctx);
  const args = training?.info.args ?? null;
  const adapter = files.adapter?.info ?? null;
  const state = files.state?.info ?? null;
  const newest = newestMtime(listing);
  const { status, evidence, inputs } = llamaFactoryStatus({
    log,
    runningLog,
    runningLogMtime: listing.entries[listing.names.indexOf('running_log.txt')]?.mtime ?? null,
    stateSummary: state?.hasSummary ?? false,
    resultFiles: files.resultFiles,
    lossPlot: hasFile(listing, 'training_loss.png'),
    finalWeights: rootWeights(listing),
    checkpoints: checkpointSteps(listing).length > 0,
    newestMtime: newest,
    now: ctx.now,
  });
  const baseModel = args?.model_name_or_path ?? adapter?.baseModel ?? board?.info.board['top.model_name'] ?? null;
  const [loss, lossSource] = pickLoss(log, files, runningLog);
  const dirName = listing.dir.slice(listing.dir.lastIndexOf('/') + 1);
  const webuiName = WEBUI_DIR.test(dirName) ? dirName : lastSegment(args?.output_dir ?? '');
  const webui = WEBUI_DIR.exec(webuiName);
  const startedAt = runningLog?.firstTime ?? (webui ? `${webui[2]}T${webui[3]}:${webui[4]}:${webui[5]}.000Z` : estimatedStart(ctx, log));
  const bestName = state?.bestCheckpointName ?? null;
  const kind = decideRunKind(kindEvidence(listing, files, training?.info.values ?? files.trainingArgs?.values ?? null, log, runningLog));
  // An evaluation's saved TrainingArguments hold the defaults (learning rate 5e-5, 3 epochs): not hyperparameters of anything.
  const saved = kind.kind === 'training' ? files.trainingArgs : null;
  const savedFacts = argsFacts(saved?.values ?? {});
  const rateCandidates: Array<[unknown, LearningRateSource]> = [[args?.learning_rate, 'config']];
  if (saved) {
    rateCandidates.push([saved.values.learning_rate, saved.source]);
  }
  return {
    identity: { explicit: await readRunIdFile(ctx), content: contentIdentity(webuiName, webui !== null, log, baseModel) },
    run_kind: kind.kind,
    status,
    status_evidence: kind.kind === 'evaluation' ? `evaluation only (${kind.evidence}); ${evidence}` : evidence,
    status_inputs: inputs,
    base_model: baseModel,
    base_model_family: baseModel === null ? null : adapter?.baseModel === baseModel ? adapter.baseModelFamily : modelFamily(baseModel),
    lora_rank: args?.lora_rank ?? adapter?.rank ?? null,
    lora_alpha: args?.lora_alpha ?? adapter?.alpha ?? null,
    target_modules: adapter && adapter.targetModules.length > 0 ? adapter.targetModules : splitNames(args?.lora_target ?? null),
    network_module: args?.finetuning_type ?? board?.info.board['top.finetuning_type'] ?? adapter?.peftType ?? null,
    ...pickLearningRate(
      rateCandidates,
      kind.kind === 'training'
        ? [
            ...statePeak(files.state),
            { value: log?.peakLearningRate ?? null, rising: log?.learningRateRising ?? false, file: 'trainer_log.jsonl', source: 'trainer_log-peak' },
          ]
        : [],
      ctx.warn,
    ),
    batch_size: args?.per_device_train_batch_size ?? savedFacts.batch_size ?? state?.trainBatchSize ?? null,
    epochs: args?.num_train_epochs ?? savedFacts.epochs ?? state?.numTrainEpochs ?? null,
    total_steps: log?.totalSteps ?? state?.maxSteps ?? args?.max_steps ?? savedFacts.total_steps ?? null,
    optimizer: args?.optim ?? savedFacts.optimizer,
    data_dir: args?.dataset_dir ?? null,
    output_dir: args?.output_dir ?? savedFacts.output_dir,
    tags: tagsOf(args, board?.info ?? null),
    started_at: startedAt,
    created_at_source: runningLog?.firstTime ? 'log-timestamp' : webui ? 'folder-name' : startedAt ? 'log-elapsed' : null,
    finished_at: status === 'completed' ? (runningLog?.lastTime ?? isoOf(newest)) : null,
    loss_final: loss?.final ?? null,
    loss_min: loss?.min ?? null,
    loss_per_epoch: loss?.perEpoch ?? [],
    best_epoch: state?.bestCheckpointName ? state.bestEpoch : (loss?.bestEpoch ?? null),
    best_checkpoint: bestName !== null && listing.names.some((n) => n.startsWith(`${bestName}/`)) ? bestName : null,
    loss_source: lossSource,
    eval_metrics: evalMetrics(files, log),
    artifacts: trainerArtifacts(listing, (step) => state?.stepEpochs.get(step) ?? null),
    config: configOf(ctx, training, board, files),
  };
}

// --- internal ---

type Loss = TrainerLogSummary['loss'];

function pickLoss(log: TrainerLogSummary | null, files: TrainerFiles, runningLog: RunningLogSummary | null): [Loss | null, RunRecord['loss_source']] {
  if (log && log.loss.points > 0) {
    return [log.loss, 'trainer-log'];
  }
  const state = files.state?.info;
  if (state && state.loss.points > 0) {
    return [state.loss, 'trainer-state'];
  }
  if (runningLog && runningLog.loss.points > 0) {
    return [runningLog.loss, 'log-text'];
  }
  return [null, 'none'];
}

async function readTrainerLog(ctx: ParseContext): Promise<TrainerLogSummary | null> {
  if (!hasFile(ctx.listing, 'trainer_log.jsonl')) {
    return null;
  }
  const lines = await ctx.readLines(keyOf(ctx.listing, 'trainer_log.jsonl'));
  if (lines === null) {
    return null;
  }
  const log = await parseTrainerLogLines(lines);
  if (log.badLines > 0) {
    ctx.warn(`trainer_log.jsonl: ${log.badLines} unparsable line(s) skipped`);
  }
  if (log.segments > 1) {
    ctx.warn(`trainer_log.jsonl: ${log.segments} appended runs (steps restarted or total_steps changed); kept the last`);
  }
  if (log.skippedLines > 0) {
    ctx.warn(`trainer_log.jsonl: ${log.skippedLines} line(s) repeating a logged step ignored (several writers or a resume)`);
  }
  if (log.nonFinite > 0) {
    ctx.warn(`trainer_log.jsonl: ${log.nonFinite} NaN/Infinity value(s) read as null`);
  }
  return log;
}

async function readRunningLog(ctx: ParseContext): Promise<RunningLogSummary | null> {
  if (!hasFile(ctx.listing, 'running_log.txt')) {
    return null;
  }
  const lines = await ctx.readLines(keyOf(ctx.listing, 'running_log.txt'));
  return lines === null ? null : parseRunningLog(lines);
}

async function readYaml<T>(ctx: ParseContext, name: string, parse: (text: string) => ParseResult<T>): Promise<{ file: string; text: string; info: T } | null> {
  return hasFile(ctx.listing, name) ? readParsedFile(ctx, name, parse, 1024 * 1024) : null;
}

/** CLI runs carry no start time; the log's newest line was written about when the file was last modified. */
function estimatedStart(ctx: ParseContext, log: TrainerLogSummary | null): string | null {
  const entry = ctx.listing.entries[ctx.listing.names.indexOf('trainer_log.jsonl')];
  if (!entry || log?.elapsedSeconds === null || log === null) {
    return null;
  }
  return isoOf(entry.mtime - log.elapsedSeconds * 1000);
}

/**
 * Web-UI runs: the timestamped folder name plus the model. CLI runs: the log's first line (it holds elapsed time
 * and loss, so repeats differ), total steps and model. Nothing else survives a move.
 */
function contentIdentity(dirName: string, webui: boolean, log: TrainerLogSummary | null, model: string | null): string | null {
  if (webui) {
    return `webui:${dirName}:${model ?? ''}`;
  }
  if (log?.firstLine) {
    return `log:${digest(log.firstLine, log.totalSteps, model)}`;
  }
  return null;
}

function kindEvidence(
  listing: DirListing,
  files: TrainerFiles,
  args: Record<string, unknown> | null,
  log: TrainerLogSummary | null,
  runningLog: RunningLogSummary | null,
): RunKindEvidence {
  const evidence = trainerKindEvidence({ listing, results: files.results, state: files.state?.info ?? null, args });
  if (log && log.trainingLines > 0) {
    evidence.training.push('trainer_log.jsonl logs training steps');
  } else if (log && log.lastStep !== null) {
    evidence.evaluation.push('trainer_log.jsonl holds only prediction progress');
  }
  if (runningLog?.trainingStarted) {
    evidence.training.push('running_log.txt shows training');
  }
  return evidence;
}

function evalMetrics(files: TrainerFiles, log: TrainerLogSummary | null): Record<string, number> {
  const metrics: Record<string, number> = { ...files.state?.info.evalMetrics };
  if (log && log.lastEvalLoss !== null) {
    metrics.eval_loss = log.lastEvalLoss;
  }
  if (log && log.throughput !== null) {
    metrics.throughput = log.throughput;
  }
  return { ...metrics, ...files.results };
}

function configOf(
  ctx: ParseContext,
  training: { file: string; text: string; info: TrainingArgsInfo } | null,
  board: { file: string; text: string; info: LlamaboardInfo } | null,
  files: TrainerFiles,
): RunRecord['config'] {
  if (training) {
    return { file: keyOf(ctx.listing, training.file), syntax: 'yaml', text: training.text, values: training.info.values };
  }
  if (board) {
    return { file: keyOf(ctx.listing, board.file), syntax: 'yaml', text: board.text, values: board.info.values };
  }
  if (files.trainingArgs) {
    const saved = files.trainingArgs;
    return {
      file: keyOf(ctx.listing, saved.file),
      syntax: saved.text === null ? 'none' : 'json',
      text: saved.text,
      values: { ...saved.values, ...files.adapter?.info.values },
    };
  }
  if (files.adapter) {
    return { file: keyOf(ctx.listing, files.adapter.file), syntax: 'json', text: files.adapter.text, values: files.adapter.info.values };
  }
  return { file: null, syntax: 'none', text: null, values: {} };
}

function tagsOf(args: TrainingArgsInfo['args'] | null, board: LlamaboardInfo | null): string[] {
  const tags = new Set<string>();
  for (const name of [
    ...(args?.dataset ?? []),
    ...(args?.eval_dataset ?? []),
    ...(board?.board['train.dataset'] ?? []),
    ...(board?.board['eval.dataset'] ?? []),
  ]) {
    tags.add(`dataset:${name}`);
  }
  if (args?.stage) {
    tags.add(`stage:${args.stage}`);
  }
  const finetuning = args?.finetuning_type ?? board?.board['top.finetuning_type'] ?? null;
  if (finetuning) {
    tags.add(`finetuning:${finetuning}`);
  }
  return [...tags];
}

function lastSegment(path: string): string {
  return path.replaceAll('\\', '/').replace(/\/+$/, '').split('/').at(-1) ?? '';
}

function splitNames(text: string | null): string[] {
  return text === null
    ? []
    : text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
}
