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

/** `<log_prefix><YYYYmmddHHMMSS>`, the run folder accelerate's tracker creates under `--logging_dir`. */
export const LOG_RUN_DIR = /^(.*?)(\d{14})$/;

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
