import type { Artifact, StatusInputs } from '../../record/schema.ts';
import { deriveStatus, lastActivity, stepCount, type DerivedStatus, type LogTime } from '../kit/run-status.ts';
import type { DirListing } from '../types.ts';
import type { EventFile } from './loss.ts';
import { eventFile } from './loss.ts';
import { GUI_JSON, parseStateDir, parseWeightsName, type KohyaName } from './names.ts';

export interface RunFile {
  /** Relative to the run folder. */
  name: string;
  /** Root-relative key. */
  key: string;
  size: number;
  mtime: number;
}

export interface WeightsFile extends RunFile {
  parsed: KohyaName;
}

/** The files of a run folder sorted by role. */
export interface RunFiles {
  /** Top-level kohya weights (`.safetensors`, `.ckpt`, `.pt`), oldest first. */
  weights: WeightsFile[];
  /** Files inside `*-state/` folders, with the epoch/step of their folder. */
  states: WeightsFile[];
  tomls: RunFile[];
  guiJsons: RunFile[];
  events: EventFile[];
  /** Newest modification over every file of the folder (epoch ms), or null for an empty listing. */
  newest: RunFile | null;
}

export interface StatusInput {
  files: RunFiles;
  /** Output name the final weights carry when known (config or metadata). */
  outputName?: string;
  /** `ss_epoch` / `ss_num_epochs` of the final weights, when read. */
  finalEpoch?: number;
  numEpochs?: number;
  /** Newest linked log file outside the folder (epoch ms). */
  linkedLogMtime?: number;
  /** Root-relative keys of the linked log files: a sync stats them before calling the run stale. */
  linkedLogKeys?: readonly string[];
  /** Unix seconds of the last TensorBoard loss event read. */
  lastWallTime?: number | null;
  /** Unix seconds the newest weights read were saved (`ss_training_finished_at`). */
  savedAt?: number | null;
  /** `ss_steps` / `ss_max_train_steps` of the newest weights read (global steps, unlike the events' micro-batch steps). */
  steps?: number;
  maxSteps?: number;
  now: Date;
}

export function scanFiles(listing: DirListing): RunFiles {
  const out: RunFiles = { weights: [], states: [], tomls: [], guiJsons: [], events: [], newest: null };
  listing.entries.forEach((entry, i) => {
    const name = listing.names[i] ?? '';
    const file: RunFile = { name, key: entry.key, size: entry.size, mtime: entry.mtime };
    if (out.newest === null || file.mtime > out.newest.mtime) {
      out.newest = file;
    }
    const weights = name.includes('/') ? null : parseWeightsName(name);
    const state = /^([^/]+-state)\//.exec(name);
    const parsedState = state ? parseStateDir(state[1] ?? '') : null;
    const events = eventFile(entry);
    if (weights) {
      out.weights.push({ ...file, parsed: weights });
    } else if (parsedState) {
      out.states.push({ ...file, parsed: parsedState });
    } else if (/^[^/]+\.toml$/.test(name)) {
      out.tomls.push(file);
    } else if (/^[^/]+\.json$/.test(name)) {
      out.guiJsons.push(file);
    } else if (events) {
      out.events.push(events);
    }
  });
  out.weights.sort(byAge);
  // kohya_ss GUI names carry the launch time; the newest launch is the one that wrote the newest weights.
  out.guiJsons.sort((a, b) => Number(GUI_JSON.test(b.name)) - Number(GUI_JSON.test(a.name)) || b.name.localeCompare(a.name));
  return settleFinals(out);
}

/**
 * kohya names epoch checkpoints `<output_name>-NNNNNN` and step checkpoints `<output_name>-stepNNNNNNNN`, so the final
 * weights of an output name that itself ends that way (`style-240115`, a date) read as a checkpoint of `style`. A
 * weights file or state folder whose whole name is the run's output name, or is the name the folder's checkpoints are
 * checkpoints of, is the final one.
 */
export function settleFinals(files: RunFiles, outputName?: string): RunFiles {
  const checkpointStems = new Set([...files.weights, ...files.states].filter((w) => w.parsed.kind !== 'final').map((w) => w.parsed.stem));
  const isFinal = (base: string) => base === outputName || checkpointStems.has(base);
  const settle = <T extends WeightsFile>(file: T, base: string): T =>
    file.parsed.kind !== 'final' && isFinal(base) ? { ...file, parsed: { stem: base, kind: 'final', epoch: null, step: null } } : file;
  const weights = files.weights.map((w) => settle(w, w.name.replace(/\.[^.]+$/, '')));
  const states = files.states.map((s) => settle(s, s.name.slice(0, s.name.indexOf('/')).replace(/-state$/, '')));
  if (weights.every((w, i) => w === files.weights[i]) && states.every((s, i) => s === files.states[i])) {
    return files;
  }
  weights.sort(byAge);
  return { ...files, weights, states };
}

export function collectArtifacts(files: RunFiles, dir: string): Artifact[] {
  const cut = dir === '' ? 0 : dir.length + 1;
  const weights = files.weights.map((w) => artifact(w, w.parsed.kind === 'final' ? 'weights' : 'checkpoint'));
  const states = files.states.map((s) => artifact(s, 'state'));
  const logs: Artifact[] = files.events.map((e) => ({ path: e.key.slice(cut), size: e.size, kind: 'log', epoch: null, step: null }));
  return [...weights, ...states, ...logs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * FORMATS §1.5: the final `<output_name>.safetensors` (no step suffix, epochs agree) = completed; the rest is decided
 * from time by the shared rule (run-status.ts), with the TensorBoard events' and saves' own times before file mtimes.
 */
export function decideStatus(input: StatusInput): DerivedStatus & { inputs: StatusInputs } {
  const { files } = input;
  const finals = files.weights.filter((w) => w.parsed.kind === 'final' && (input.outputName === undefined || w.parsed.stem === input.outputName));
  const final = finals.at(-1) ?? files.weights.filter((w) => w.parsed.kind === 'final').at(-1);
  const epochsAgree = input.finalEpoch === undefined || input.numEpochs === undefined || input.finalEpoch === input.numEpochs;
  const logTimes: LogTime[] = [];
  if (input.lastWallTime !== undefined && input.lastWallTime !== null) {
    logTimes.push({ at: input.lastWallTime * 1000, source: 'tfevents' });
  }
  if (input.savedAt !== undefined && input.savedAt !== null) {
    logTimes.push({ at: input.savedAt * 1000, source: 'safetensors-metadata' });
  }
  const newestMtime = Math.max(files.newest?.mtime ?? 0, input.linkedLogMtime ?? 0);
  const inputs: StatusInputs = {
    max_steps: stepCount(input.maxSteps),
    last_step: stepCount(input.steps),
    final_artifact: final && epochsAgree ? final.name : null,
    progressed: files.weights.some((w) => w.parsed.kind !== 'final') || files.states.length > 0,
    terminal: null,
    terminal_evidence: null,
    caveat: final && !epochsAgree ? `final weights ${final.name} say epoch ${input.finalEpoch} of ${input.numEpochs}` : null,
    external_logs: [...(input.linkedLogKeys ?? [])],
    ...lastActivity(logTimes, newestMtime > 0 ? newestMtime : null),
  };
  const derived = deriveStatus(inputs, input.now);
  const epochs =
    inputs.final_artifact !== null && input.finalEpoch !== undefined && input.numEpochs !== undefined
      ? ` (epoch ${input.finalEpoch} of ${input.numEpochs})`
      : '';
  return { ...derived, evidence: `${derived.evidence}${epochs}`, inputs };
}

// --- internal ---

function artifact(file: WeightsFile, kind: Artifact['kind']): Artifact {
  return { path: file.name, size: file.size, kind, epoch: file.parsed.epoch, step: file.parsed.step };
}

function byAge(a: WeightsFile, b: WeightsFile): number {
  return a.mtime - b.mtime || order(a.parsed) - order(b.parsed);
}

function order(name: KohyaName): number {
  return name.kind === 'final' ? Number.MAX_SAFE_INTEGER : (name.step ?? name.epoch ?? 0);
}
