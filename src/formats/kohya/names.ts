import type { DirListing } from '../types.ts';

/** What a kohya file name says about itself (`library/train_util.py` EPOCH_FILE_NAME, STEP_FILE_NAME, *_STATE_NAME). */
export interface KohyaName {
  /** `--output_name` (or `epoch` / `at` / `last` when none was given). */
  stem: string;
  kind: 'final' | 'epoch' | 'step';
  epoch: number | null;
  step: number | null;
}

/** kohya GUI config dumps: `config_lora-20240101-120000.toml` and `<output_name>_20240101-120000.json`. */
export const GUI_TOML = /^config_lora-\d{8}-\d{6}\.toml$/;
export const GUI_JSON = /^[^/]+_\d{8}-\d{6}\.json$/;

/** Weights that other trainers write (diffusers, PEFT, HF): never a kohya output by name. */
const FOREIGN_WEIGHTS = /^(adapter_model|pytorch_lora_weights.*|diffusion_pytorch_model.*|model-\d+-of-\d+|.*\.fp16)\.safetensors$/;

/** Files of the formats read by other adapters; a folder holding one is theirs (mutual exclusion). */
const OTHER_FORMAT = /(^|\/)(adapter_config\.json|trainer_state\.json|trainer_log\.jsonl|training_args\.yaml|llamaboard_config\.yaml|model_index\.json)$/;

/** The lora-scripts-yaml adapter's config names; it claims such folders unless they hold a top-level TOML. */
const YAML_CONFIG = /^([\w.-]+|configs\/[\w.-]+)\.ya?ml$/;

/** HF model folders carry a top-level config.json; kohya never writes one. */
const HF_MODEL_CONFIG = /^config\.json$/;

/** A lone `.safetensors` with no other kohya evidence above this size is a base model, not a LoRA. */
const LONE_WEIGHTS_MAX_BYTES = 2 * 1024 ** 3;

/** `<log_prefix><YYYYmmddHHMMSS>`, the run folder accelerate's tracker creates under `--logging_dir`. */
export const LOG_RUN_DIR = /^(.*?)(\d{14})$/;

/**
 * Parents whose `<prefix><timestamp>/` folders belong to a run elsewhere (the output folder links them through the
 * config's logging_dir), so they are not runs of their own: `logs` (sd-scripts docs, Akegarasu), `log` (kohya_ss
 * "prepare folders"), `_logs` (kohya-colab).
 */
const LINKED_LOG_PARENT = /^(logs?|_logs)$/;

const EVENTS_FILE = /(^|\/)events\.out\.tfevents\.[^/]+$/;

/** Parses a kohya weights file name (`x.safetensors`, `x-000004.safetensors`, `x-step00000500.safetensors`). */
export function parseWeightsName(name: string): KohyaName | null {
  const m = /^([^/]+?)\.(safetensors|ckpt|pt)$/.exec(name);
  if (!m || FOREIGN_WEIGHTS.test(name)) {
    return null;
  }
  return parseStem(m[1] ?? '');
}

/** Parses a state folder name (`x-000004-state`, `x-step00000500-state`, `x-state`). */
export function parseStateDir(dir: string): KohyaName | null {
  const m = /^([^/]+)-state$/.exec(dir);
  return m ? parseStem(m[1] ?? '') : null;
}

/** True when `name` (relative to the run folder) is a TensorBoard event file. */
export function isEventsFile(name: string): boolean {
  return EVENTS_FILE.test(name);
}

/**
 * Detection, pure over names (see readme.md). A folder is a kohya run when it holds kohya-named weights
 * (one output family, or several with kohya evidence next to them), a kohya config plus `*-state/` folders,
 * or it is a `<prefix><YYYYmmddHHMMSS>/` TensorBoard folder that is not under `logs/`, `log/` or `_logs/`.
 */
export function isKohyaRun(listing: DirListing): boolean {
  const { names } = listing;
  if (names.some((name) => OTHER_FORMAT.test(name) || HF_MODEL_CONFIG.test(name))) {
    return false;
  }
  const hasToml = names.some((name) => /^[^/]+\.toml$/.test(name));
  if (!hasToml && names.some((name) => YAML_CONFIG.test(name))) {
    return false;
  }
  const weights = listing.entries.flatMap((entry, i) => {
    const name = names[i] ?? '';
    const parsed = name.includes('/') ? null : parseWeightsName(name);
    return parsed && name.endsWith('.safetensors') ? [{ parsed, size: entry.size }] : [];
  });
  const hasState = names.some((name) => /^[^/]+-state\//.test(name));
  const hasConfig = hasToml || names.some((name) => GUI_JSON.test(name));
  if (weights.length > 0) {
    const evidence = hasConfig || hasState || names.some((name) => isEventsFile(name) || /^samples?\/|^sample_prompts\.txt$/.test(name));
    const stems = new Set(weights.map((w) => w.parsed.stem));
    const checkpoints = weights.some((w) => w.parsed.kind !== 'final');
    if (evidence || checkpoints) {
      return true;
    }
    return stems.size === 1 && weights.every((w) => w.size <= LONE_WEIGHTS_MAX_BYTES);
  }
  if (hasConfig && hasState) {
    return true;
  }
  return isLogRunDir(listing);
}

/** A `<prefix><YYYYmmddHHMMSS>/<tracker>/events.out.tfevents.*` folder standing on its own. */
export function isLogRunDir(listing: DirListing): boolean {
  const segments = listing.dir.split('/');
  const last = segments.at(-1) ?? '';
  const parent = segments.at(-2) ?? '';
  if (!LOG_RUN_DIR.test(last) || LINKED_LOG_PARENT.test(parent)) {
    return false;
  }
  return listing.names.some((name) => /^[^/]+\/events\.out\.tfevents\.[^/]+$/.test(name));
}

// --- internal ---

function parseStem(base: string): KohyaName {
  const step = /^(.*)-step(\d{8})$/.exec(base);
  if (step) {
    return { stem: step[1] ?? '', kind: 'step', epoch: null, step: Number(step[2]) };
  }
  const epoch = /^(.*)-(\d{6})$/.exec(base);
  if (epoch) {
    return { stem: epoch[1] ?? '', kind: 'epoch', epoch: Number(epoch[2]), step: null };
  }
  return { stem: base, kind: 'final', epoch: null, step: null };
}
