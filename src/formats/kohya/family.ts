/** Evidence for the base model family; the first rule that gives an answer wins (most specific first). */
export interface FamilyEvidence {
  /** `ss_base_model_version` (`sd_v1`, `sdxl_base_v1-0`, `flux1`, SD3 model types…). */
  baseModelVersion?: string;
  /** `modelspec.architecture` (`stable-diffusion-xl-v1-base/lora`). */
  architecture?: string;
  networkModule?: string;
  /** `ss_v2` or the config's `v2`. */
  v2?: boolean;
  /** Whether `v2` came from safetensors metadata: there `ss_v2=False` without a version key means SD 1.x (pre-SDXL sd-scripts). */
  v2FromMetadata?: boolean;
  /** Config flags: kohya_ss GUI `sdxl`, `flux1_checkbox`, `sd3_checkbox`; Akegarasu `model_type`. */
  sdxl?: boolean;
  flux?: boolean;
  sd3?: boolean;
  modelType?: string;
  /** Base model path or name; only strong name hints are used. */
  baseModel?: string;
}

/** `ss_base_model_version` values written by sd-scripts (`library/train_util.py`, `*_train_network.py`). */
const VERSION_FAMILY: [RegExp, string][] = [
  [/^sd_v1/, 'sd15'],
  [/^sd_v2/, 'sd2'],
  [/^sdxl/, 'sdxl'],
  [/^flux/, 'flux'],
  [/^chroma/, 'chroma'],
  [/^lumina/, 'lumina'],
  [/^hunyuan/, 'hunyuan'],
  [/^anima/, 'anima'],
  [/^(sd3|medium|large|\d(\.\d)?-(medium|large))/, 'sd3'],
];

const ARCHITECTURE_FAMILY: [RegExp, string][] = [
  [/^stable-diffusion-xl/, 'sdxl'],
  [/^stable-diffusion-v1/, 'sd15'],
  [/^stable-diffusion-v2/, 'sd2'],
  [/^stable-diffusion-3/, 'sd3'],
  [/^flux/, 'flux'],
  [/^chroma/, 'chroma'],
  [/^lumina/, 'lumina'],
  [/^hunyuan/, 'hunyuan'],
];

const MODULE_FAMILY: [RegExp, string][] = [
  [/lora_flux|flux/, 'flux'],
  [/lora_sd3|sd3/, 'sd3'],
  [/lumina/, 'lumina'],
  [/hunyuan/, 'hunyuan'],
  [/anima/, 'anima'],
];

const NAME_FAMILY: [RegExp, string][] = [
  [/sd_?xl|stable-diffusion-xl|(^|[^a-z])xl([^a-z]|$)|pony|illustrious/i, 'sdxl'],
  [/flux/i, 'flux'],
  [/chroma/i, 'chroma'],
  [/sd3|stable-diffusion-3/i, 'sd3'],
  [/v1-5|sd-?1\.?5|stable-diffusion-v1|sd15/i, 'sd15'],
  [/v2-1|sd-?2|stable-diffusion-2/i, 'sd2'],
];

/** Short family name (`sd15`, `sd2`, `sdxl`, `flux`, `sd3`, `chroma`…) or null when nothing says. */
export function baseModelFamily(e: FamilyEvidence): string | null {
  const version = e.baseModelVersion?.toLowerCase();
  const fromVersion = version ? firstMatch(VERSION_FAMILY, version) : null;
  if (fromVersion) {
    return fromVersion;
  }
  const fromArchitecture = e.architecture ? firstMatch(ARCHITECTURE_FAMILY, e.architecture.toLowerCase()) : null;
  if (fromArchitecture) {
    return fromArchitecture;
  }
  const fromModule = e.networkModule ? firstMatch(MODULE_FAMILY, e.networkModule.toLowerCase()) : null;
  if (fromModule) {
    return fromModule;
  }
  if (e.modelType) {
    const fromType = firstMatch(VERSION_FAMILY, e.modelType.toLowerCase());
    if (fromType) {
      return fromType;
    }
  }
  if (e.flux) {
    return 'flux';
  }
  if (e.sd3) {
    return 'sd3';
  }
  if (e.sdxl) {
    return 'sdxl';
  }
  if (e.v2) {
    return 'sd2';
  }
  const fromName = e.baseModel ? firstMatch(NAME_FAMILY, e.baseModel) : null;
  if (fromName) {
    return fromName;
  }
  return e.v2 === false && e.v2FromMetadata ? 'sd15' : null;
}

// --- internal ---

function firstMatch(rules: [RegExp, string][], text: string): string | null {
  for (const [pattern, family] of rules) {
    if (pattern.test(text)) {
      return family;
    }
  }
  return null;
}
