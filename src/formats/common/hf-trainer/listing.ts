import type { Artifact } from '../../../record/schema.ts';
import type { DirListing } from '../../types.ts';

export interface TfEventsFile {
  /** Name relative to the run directory. */
  name: string;
  /** Unix seconds from the file name (`events.out.tfevents.<unix>.<host>.<pid>.<n>`): when the writer opened. */
  unix: number;
  /** `<unix>.<host>.<pid>.<n>`: unique per writer, survives a move of the run. */
  identity: string;
}

/** Sub-folders that hold one checkpoint: `checkpoint-N/` and the hub's `last-checkpoint/` (staging `tmp-checkpoint-N/` is ignored). */
const CHECKPOINT_DIR = /^(checkpoint-(\d+)|last-checkpoint)\//;

/** Weights a PEFT/Trainer run leaves at its root. */
const WEIGHT_FILE = /^(adapter_model\.(safetensors|bin)|model(-\d+-of-\d+)?\.safetensors|pytorch_model(-\d+-of-\d+)?\.bin)$/;

const TFEVENTS = /^runs\/(?:.*\/)?events\.out\.tfevents\.((\d+)(?:\.\d+)?\..+)$/;

/** Exact file at the run root. */
export function hasFile(listing: DirListing, name: string): boolean {
  return listing.names.includes(name);
}

/** Weights at the run root: `trainer.save_model()` writes them after `train()` returned (checkpoints go to sub-folders). */
export function rootWeights(listing: DirListing): string | null {
  return listing.names.find((name) => WEIGHT_FILE.test(name)) ?? null;
}

/** `checkpoint-N` folders in the listing, oldest step first. */
export function checkpointSteps(listing: DirListing): number[] {
  const steps = new Set<number>();
  for (const name of listing.names) {
    const match = CHECKPOINT_DIR.exec(name);
    if (match?.[2] !== undefined) {
      steps.add(Number(match[2]));
    }
  }
  return [...steps].sort((a, b) => a - b);
}

/** Checkpoint folders (size = sum of their files) and root weight files. `epochOf` dates a checkpoint by its step. */
export function trainerArtifacts(listing: DirListing, epochOf: (step: number) => number | null): Artifact[] {
  const checkpoints = new Map<string, Artifact>();
  const weights: Artifact[] = [];
  listing.names.forEach((name, i) => {
    const size = listing.entries[i]?.size ?? 0;
    const match = CHECKPOINT_DIR.exec(name);
    if (match) {
      const dir = match[1] as string;
      const step = match[2] === undefined ? null : Number(match[2]);
      const artifact = checkpoints.get(dir) ?? { path: dir, size: 0, kind: 'checkpoint', epoch: step === null ? null : epochOf(step), step };
      artifact.size += size;
      checkpoints.set(dir, artifact);
    } else if (WEIGHT_FILE.test(name)) {
      weights.push({ path: name, size, kind: 'weights', epoch: null, step: null });
    }
  });
  const ordered = [...checkpoints.values()].sort((a, b) => (a.step ?? Number.MAX_SAFE_INTEGER) - (b.step ?? Number.MAX_SAFE_INTEGER));
  return [...weights, ...ordered];
}

/** TensorBoard event files under `runs/`, earliest writer first. */
export function tfEventsFiles(listing: DirListing): TfEventsFile[] {
  const files: TfEventsFile[] = [];
  for (const name of listing.names) {
    const match = TFEVENTS.exec(name);
    if (match?.[1] !== undefined && match[2] !== undefined) {
      files.push({ name, unix: Number(match[2]), identity: match[1] });
    }
  }
  return files.sort((a, b) => a.unix - b.unix || (a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0));
}

/** Newest modification time of any file of the run (epoch ms), or null for an empty listing. */
export function newestMtime(listing: DirListing): number | null {
  let max: number | null = null;
  for (const entry of listing.entries) {
    max = max === null ? entry.mtime : Math.max(max, entry.mtime);
  }
  return max;
}

/** Key of a run-relative name. */
export function keyOf(listing: DirListing, name: string): string {
  return listing.dir === '' ? name : `${listing.dir}/${name}`;
}
