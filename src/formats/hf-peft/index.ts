import type { RunRecord } from '../../record/schema.ts';
import { FileError } from '../../errors.ts';
import type { FormatAdapter, ParseContext, RunDraft } from '../types.ts';
import type { LossSummary } from '../common/hf-trainer/epoch-loss.ts';
import { digest, isoOf, readRunIdFile } from '../common/hf-trainer/identity.ts';
import { checkpointSteps, hasFile, keyOf, newestMtime, rootWeights, tfEventsFiles, trainerArtifacts } from '../common/hf-trainer/listing.ts';
import { readTrainerFiles, type TrainerFiles } from '../common/hf-trainer/read-run.ts';
import { readTfLoss } from '../common/hf-trainer/tf-loss.ts';
import { argsFacts, decideRunKind, pickLearningRate, statePeak, trainerKindEvidence } from '../common/hf-trainer/args-facts.ts';
import { SPECIFICITY } from '../kit/markers.ts';
import { hfStatus } from './status.ts';

/** Hugging Face `transformers.Trainer` (+ PEFT, TRL) output dirs. See readme.md. */
export const hfPeft: FormatAdapter = {
  id: 'hf-peft',
  aliases: ['hf', 'peft'],
  markers: {
    // What transformers.Trainer writes; a run that kept only its checkpoints still is one (`checkpoint-N/`, the hub's `last-checkpoint/`).
    rules: [
      {
        all: [['adapter_config.json', 'trainer_state.json', 'checkpoint-+([0-9])/trainer_state.json', 'last-checkpoint/trainer_state.json']],
        specificity: SPECIFICITY.toolFiles,
      },
    ],
  },
  parse: parseHfPeft,
};

export async function parseHfPeft(ctx: ParseContext): Promise<RunDraft> {
  const { listing } = ctx;
  const files = await readTrainerFiles(ctx, { stateRequired: !hasFile(listing, 'adapter_config.json') });
  const tfFiles = tfEventsFiles(listing);
  if (files.adapter === null && files.state === null && tfFiles.length === 0) {
    const main = hasFile(listing, 'adapter_config.json') ? 'adapter_config.json' : 'trainer_state.json';
    throw new FileError(keyOf(listing, main), 'no readable adapter_config.json or trainer_state.json');
  }
  const state = files.state?.info ?? null;
  const tf = state === null && tfFiles.length > 0 ? await readTfLoss(ctx, tfFiles) : null;
  const loss: LossSummary | null = state?.loss ?? tf?.loss ?? null;
  const adapter = files.adapter?.info ?? null;
  const kindEvidence = trainerKindEvidence({ listing, results: files.results, state, args: files.trainingArgs?.values ?? null });
  if (tf && tf.loss.points > 0) {
    kindEvidence.training.push('TensorBoard training loss');
  }
  const kind = decideRunKind(kindEvidence);
  // An evaluation's saved TrainingArguments hold the defaults (learning rate 5e-5, 3 epochs): not hyperparameters of anything.
  const saved = kind.kind === 'training' ? files.trainingArgs : null;
  const facts = argsFacts(saved?.values ?? {});
  const newest = newestMtime(listing);
  const steps = checkpointSteps(listing);
  const { status, evidence, inputs } = hfStatus({
    hasSummary: state?.hasSummary ?? tf?.hasSummary ?? false,
    resultFiles: files.resultFiles,
    globalStep: state?.globalStep ?? tf?.lastStep ?? null,
    maxSteps: state?.maxSteps ?? null,
    earlyStopping: state?.earlyStopping ?? false,
    finalWeights: rootWeights(listing),
    checkpoints: steps.length > 0,
    lastWallTime: tf?.lastWallTime ?? null,
    newestMtime: newest,
    now: ctx.now,
  });
  const bestName = state?.bestCheckpointName ?? null;
  return {
    identity: { explicit: await readRunIdFile(ctx), content: contentIdentity(files, tfFiles[0]?.identity ?? null) },
    run_kind: kind.kind,
    status,
    status_evidence: kind.kind === 'evaluation' ? `evaluation only (${kind.evidence}); ${evidence}` : evidence,
    status_inputs: inputs,
    base_model: adapter?.baseModel ?? null,
    base_model_family: adapter?.baseModelFamily ?? null,
    lora_rank: adapter?.rank ?? null,
    lora_alpha: adapter?.alpha ?? null,
    target_modules: adapter?.targetModules ?? [],
    network_module: adapter?.peftType ?? null,
    ...pickLearningRate(saved ? [[saved.values.learning_rate, saved.source]] : [], kind.kind === 'training' ? statePeak(files.state) : [], ctx.warn),
    batch_size: state?.trainBatchSize ?? facts.batch_size,
    epochs: state?.numTrainEpochs ?? facts.epochs,
    total_steps: state?.maxSteps ?? facts.total_steps,
    optimizer: facts.optimizer,
    output_dir: facts.output_dir,
    tags: tagsOf(files),
    started_at: tfFiles[0] ? isoOf(tfFiles[0].unix * 1000) : null,
    created_at_source: tfFiles[0] ? 'tfevents-file-name' : null,
    finished_at: status === 'completed' ? isoOf(newest) : null,
    loss_final: loss?.final ?? null,
    loss_min: loss?.min ?? null,
    loss_per_epoch: loss?.perEpoch ?? [],
    best_epoch: state?.bestEpoch ?? loss?.bestEpoch ?? null,
    best_checkpoint: bestName !== null && steps.includes(Number(bestName.slice('checkpoint-'.length))) ? bestName : null,
    loss_source: state ? 'trainer-state' : tf && tf.loss.points > 0 ? 'tfevents' : 'none',
    eval_metrics: { ...(state?.evalMetrics ?? tf?.evalMetrics), ...files.results },
    artifacts: trainerArtifacts(listing, (step) => state?.stepEpochs.get(step) ?? null),
    config: configOf(ctx, files),
  };
}

// --- internal ---

/**
 * Content identity: the first TensorBoard writer (unix time + host + pid) is unique per launch; else the first logged
 * losses with max_steps and the adapter config (two runs of one config differ in their losses). An adapter alone is
 * not enough: copies of one config would collide.
 */
function contentIdentity(files: TrainerFiles, tfIdentity: string | null): string | null {
  if (tfIdentity !== null) {
    return `tfevents:${tfIdentity}`;
  }
  const state = files.state?.info;
  if (!state || state.entries === 0) {
    return null;
  }
  return `state:${digest(state.identitySeed, state.maxSteps, files.adapter?.info.values ?? null)}`;
}

function configOf(ctx: ParseContext, files: TrainerFiles): RunRecord['config'] {
  const adapter = files.adapter;
  const args = files.trainingArgs;
  if (adapter) {
    return { file: keyOf(ctx.listing, adapter.file), syntax: 'json', text: adapter.text, values: { ...args?.values, ...adapter.info.values } };
  }
  if (args) {
    return { file: keyOf(ctx.listing, args.file), syntax: args.text === null ? 'none' : 'json', text: args.text, values: args.values };
  }
  return { file: null, syntax: 'none', text: null, values: {} };
}

function tagsOf(files: TrainerFiles): string[] {
  const tags: string[] = [];
  const adapter = files.adapter?.info;
  if (adapter?.peftType) {
    tags.push(`peft:${adapter.peftType.toLowerCase()}`);
  }
  if (adapter?.taskType) {
    tags.push(`task:${adapter.taskType.toLowerCase()}`);
  }
  if (files.state?.info.earlyStopping) {
    tags.push('early-stopping');
  }
  return tags;
}
