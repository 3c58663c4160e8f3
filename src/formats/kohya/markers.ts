import type { DirListing } from '../../sources/types.ts';
import { SPECIFICITY, type Markers } from '../kit/markers.ts';
import { LOG_RUN_DIR, parseWeightsName } from './names.ts';

const DIGITS = (n: number) => '[0-9]'.repeat(n);

/** kohya's config: a top-level TOML (`--config_file`, `--dataset_config`, the kohya_ss GUI's `config_lora-<ts>.toml`). */
const TOML = '?*.toml';
/** The kohya_ss GUI's parameter dump `<output_name>_<YYYYmmdd-HHMMSS>.json`; the GUI writes its TOML next to it. */
const GUI_JSON = `?*_${DIGITS(8)}-${DIGITS(6)}.json`;
/** `--save_state` folders (`<name>-000004-state/`, `<name>-state/`). */
const STATE = '?*-state/**';
/** What a training leaves next to its weights besides a TOML: state, TensorBoard events, sample images and prompts, a GUI dump. */
const OUTPUT_EVIDENCE = [STATE, '**/events.out.tfevents.*', 'sample/**', 'samples/**', 'sample_prompts.txt', GUI_JSON];

/** A lone `.safetensors` with no other kohya evidence above this size is a base model, not a LoRA. */
const LONE_WEIGHTS_MAX_BYTES = 2 * 1024 ** 3;

/**
 * Parents whose `<prefix><timestamp>/` folders belong to a run elsewhere (the output folder links them through the
 * config's logging_dir), so they are not runs of their own: `logs` (sd-scripts docs, Akegarasu), `log` (kohya_ss
 * "prepare folders"), `_logs` (kohya-colab).
 */
const LINKED_LOG_PARENT = /^(logs?|_logs)$/;

/**
 * Detection, pure over names (see readme.md). A TOML next to kohya-named weights or `*-state/` folders is the tool's own
 * config; weights known only by their names (with other kohya evidence, epoch/step checkpoints, or one small output
 * family) and stand-alone `<prefix><YYYYmmddHHMMSS>/` TensorBoard folders are weaker evidence.
 */
export const kohyaMarkers: Markers = {
  rules: [
    { all: [TOML], where: hasWeights, specificity: SPECIFICITY.toolConfig },
    { all: [TOML, STATE], specificity: SPECIFICITY.toolConfig },
    // A TOML alone (templates, a project folder whose `output/` is the run) is kohya's, but not a run.
    { all: [TOML], specificity: SPECIFICITY.toolConfig, run: false },
    { all: [GUI_JSON, STATE], specificity: SPECIFICITY.outputNames },
    { all: [OUTPUT_EVIDENCE], where: hasWeights, specificity: SPECIFICITY.outputNames },
    { all: [], where: hasCheckpointWeights, specificity: SPECIFICITY.outputNames },
    { all: [], where: isOneSmallFamily, specificity: SPECIFICITY.outputNames },
    { all: ['*/events.out.tfevents.*'], where: isLogRunDirName, specificity: SPECIFICITY.outputNames },
  ],
  // sd-scripts never writes these: a diffusers pipeline (`model_index.json`) or an HF model folder (top-level `config.json`) is a model, not a run.
  absent: ['**/model_index.json', 'config.json'],
};

// --- internal ---

interface KohyaWeights {
  stem: string;
  kind: string;
  size: number;
}

/** Several rules ask; the listing is parsed once. */
const WEIGHTS = new WeakMap<DirListing, KohyaWeights[]>();

/** Top-level weights with kohya names (diffusers/PEFT/HF weight names excluded by `parseWeightsName`). */
function kohyaWeights(listing: DirListing): KohyaWeights[] {
  let weights = WEIGHTS.get(listing);
  if (!weights) {
    weights = listing.entries.flatMap((entry, i) => {
      const name = listing.names[i] ?? '';
      const parsed = name.includes('/') || !name.endsWith('.safetensors') ? null : parseWeightsName(name);
      return parsed ? [{ stem: parsed.stem, kind: parsed.kind, size: entry.size }] : [];
    });
    WEIGHTS.set(listing, weights);
  }
  return weights;
}

/** Any kohya-named weights at the top. */
function hasWeights(listing: DirListing): boolean {
  return kohyaWeights(listing).length > 0;
}

/** Epoch or step checkpoints: only a training writes those. */
function hasCheckpointWeights(listing: DirListing): boolean {
  return kohyaWeights(listing).some((w) => w.kind !== 'final');
}

/** One output name, no file a base model's size: several names with nothing else is a library of LoRAs, not a run. */
function isOneSmallFamily(listing: DirListing): boolean {
  const weights = kohyaWeights(listing);
  return weights.length > 0 && new Set(weights.map((w) => w.stem)).size === 1 && weights.every((w) => w.size <= LONE_WEIGHTS_MAX_BYTES);
}

/** A `<prefix><YYYYmmddHHMMSS>/` folder (its `<tracker>/events.out.tfevents.*` is the glob) standing on its own. */
function isLogRunDirName(listing: DirListing): boolean {
  const segments = listing.dir.split('/');
  return LOG_RUN_DIR.test(segments.at(-1) ?? '') && !LINKED_LOG_PARENT.test(segments.at(-2) ?? '');
}
