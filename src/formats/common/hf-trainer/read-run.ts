import { errorMessage, FileError } from '../../../errors.ts';
import type { ParseContext } from '../../types.ts';
import { parseAdapterConfig, type AdapterConfigInfo } from './adapter-config.ts';
import { checkpointSteps, hasFile, keyOf } from './listing.ts';
import { parseResultsJson, parseTrainingArgsJson, RESULT_FILES } from './results.ts';
import { parseTrainerState, type TrainerStateInfo } from './trainer-state.ts';
import { MAX_TRAINING_ARGS_BIN_BYTES, parseTrainingArgsBin } from './training-args-bin.ts';
import type { ParseResult } from '../../kit/result.ts';

export interface TrainerFiles {
  /** `adapter_config.json` of the root, else of the newest checkpoint. `file` is run-relative. */
  adapter: { file: string; text: string; info: AdapterConfigInfo } | null;
  /** `trainer_state.json` of the root, else of the newest checkpoint that parses. */
  state: { file: string; info: TrainerStateInfo } | null;
  /** Numbers of every `*_results.json`, merged (see RESULT_FILES). */
  results: Record<string, number>;
  /** The result files that exist and parse, run-relative. */
  resultFiles: string[];
  /**
   * The TrainingArguments: `training_args.json` when a script wrote one, else the `training_args.bin` the Trainer
   * always saves (root, else the newest checkpoint's). `text` is null for the pickle.
   */
  trainingArgs: { file: string; text: string | null; values: Record<string, unknown>; source: 'training_args.json' | 'training_args.bin' } | null;
}

export interface ReadTrainerOptions {
  /** The state is the run's main evidence: when every `trainer_state.json` is unreadable, fail the run instead of warning. */
  stateRequired: boolean;
}

/** Logging every step of a long run makes trainer_state.json tens of MB; it must still be read whole. */
export const MAX_TRAINER_STATE_BYTES = 64 * 1024 * 1024;

/** Reads the Hugging Face Trainer / PEFT files of a run directory; shared by the hf-peft and llama-factory adapters. */
export async function readTrainerFiles(ctx: ParseContext, opts: ReadTrainerOptions): Promise<TrainerFiles> {
  const { listing } = ctx;
  const newestFirst = checkpointSteps(listing)
    .reverse()
    .map((step) => `checkpoint-${step}/`);
  const adapterName = ['', ...newestFirst].map((dir) => `${dir}adapter_config.json`).find((name) => hasFile(listing, name));
  const adapter = adapterName === undefined ? null : await readAdapter(ctx, adapterName);
  const state = await readState(
    ctx,
    ['', ...newestFirst, 'last-checkpoint/'].map((dir) => `${dir}trainer_state.json`),
    opts,
  );
  const results: Record<string, number> = {};
  const resultFiles: string[] = [];
  for (const name of RESULT_FILES) {
    const parsed = hasFile(listing, name) ? await readParsed(ctx, name, parseResultsJson) : null;
    if (parsed) {
      Object.assign(results, parsed);
      resultFiles.push(name);
    }
  }
  let trainingArgs: TrainerFiles['trainingArgs'] = null;
  if (hasFile(listing, 'training_args.json')) {
    const text = await readSoft(ctx, 'training_args.json');
    const parsed = text === null ? null : parseTrainingArgsJson(text);
    if (parsed?.ok) {
      trainingArgs = { file: 'training_args.json', text: text as string, values: parsed.value, source: 'training_args.json' };
    } else if (parsed) {
      ctx.warn(`training_args.json: ${parsed.message}`);
    }
  }
  trainingArgs ??= await readArgsBin(
    ctx,
    ['', ...newestFirst, 'last-checkpoint/'].map((dir) => `${dir}training_args.bin`),
  );
  return { adapter, state, results, resultFiles, trainingArgs };
}

/**
 * Reads and parses one file of the run (name relative to the run folder). A file that cannot be read or
 * parsed is a warning on the run, not a failure of it: `null`.
 */
export async function readParsedFile<T>(
  ctx: ParseContext,
  name: string,
  parse: (text: string) => ParseResult<T>,
  maxBytes?: number,
): Promise<{ file: string; text: string; info: T } | null> {
  let text: string | null;
  try {
    text = await ctx.readText(keyOf(ctx.listing, name), maxBytes);
  } catch (err) {
    ctx.warn(`${name}: ${errorMessage(err)}`);
    return null;
  }
  if (text === null) {
    return null;
  }
  const parsed = parse(text);
  if (!parsed.ok) {
    ctx.warn(`${name}: ${parsed.message}`);
    return null;
  }
  return { file: name, text, info: parsed.value };
}

// --- internal ---

/** The first `training_args.bin` that parses; one that does not is a warning. */
async function readArgsBin(ctx: ParseContext, candidates: string[]): Promise<TrainerFiles['trainingArgs']> {
  for (const name of candidates.filter((n) => hasFile(ctx.listing, n))) {
    const key = keyOf(ctx.listing, name);
    const size = ctx.listing.entries[ctx.listing.names.indexOf(name)]?.size ?? 0;
    if (size > MAX_TRAINING_ARGS_BIN_BYTES) {
      ctx.warn(`${name}: ${size} bytes, larger than a TrainingArguments pickle can be (${MAX_TRAINING_ARGS_BIN_BYTES}); not read`);
      continue;
    }
    let bytes: Uint8Array | null;
    try {
      bytes = await ctx.driver.read(key, { start: 0, end: MAX_TRAINING_ARGS_BIN_BYTES });
    } catch (err) {
      ctx.warn(`${name}: ${errorMessage(err)}`);
      continue;
    }
    const parsed = bytes === null ? null : parseTrainingArgsBin(bytes);
    if (parsed?.ok) {
      return { file: name, text: null, values: parsed.value.values, source: 'training_args.bin' };
    }
    if (parsed) {
      ctx.warn(`${name}: ${parsed.message}`);
    }
  }
  return null;
}

async function readAdapter(ctx: ParseContext, name: string): Promise<TrainerFiles['adapter']> {
  return readParsedFile(ctx, name, parseAdapterConfig);
}

async function readState(ctx: ParseContext, candidates: string[], opts: ReadTrainerOptions): Promise<TrainerFiles['state']> {
  let firstFailure: { file: string; message: string } | null = null;
  for (const name of candidates) {
    if (!hasFile(ctx.listing, name)) {
      continue;
    }
    let parsed: ParseResult<TrainerStateInfo>;
    try {
      const text = await ctx.readText(keyOf(ctx.listing, name), MAX_TRAINER_STATE_BYTES);
      if (text === null) {
        continue;
      }
      parsed = parseTrainerState(text);
    } catch (err) {
      parsed = { ok: false, message: errorMessage(err) };
    }
    if (parsed.ok) {
      if (parsed.value.nonFinite > 0) {
        ctx.warn(`${name}: ${parsed.value.nonFinite} NaN/Infinity value(s) read as null`);
      }
      if (firstFailure) {
        ctx.warn(`${firstFailure.file} unreadable (${firstFailure.message}); used ${name}`);
      }
      return { file: name, info: parsed.value };
    }
    firstFailure ??= { file: name, message: parsed.message };
  }
  if (firstFailure && opts.stateRequired) {
    throw new FileError(keyOf(ctx.listing, firstFailure.file), firstFailure.message);
  }
  if (firstFailure) {
    ctx.warn(`${firstFailure.file}: ${firstFailure.message}`);
  }
  return null;
}

async function readParsed<T>(ctx: ParseContext, name: string, parse: (text: string) => ParseResult<T>): Promise<T | null> {
  return (await readParsedFile(ctx, name, parse))?.info ?? null;
}

/** A secondary file: unreadable (not UTF-8, too large, vanished) is a warning, not a failed run. */
async function readSoft(ctx: ParseContext, name: string): Promise<string | null> {
  try {
    return await ctx.readText(keyOf(ctx.listing, name));
  } catch (err) {
    ctx.warn(`${name}: ${errorMessage(err)}`);
    return null;
  }
}
