/**
 * Canonical spellings for the values and field names people type: optimizer class paths, base model families and
 * the config key names they know from their tools (`network_dim`, `lora_rank`).
 */

/**
 * Optimizer spellings that mean the same thing, keyed by the squashed form (lower case, `_`/`-`/spaces removed).
 * Unlisted names keep their squashed form, so `Prodigy`, `prodigyopt.Prodigy` and `prodigy` all become `prodigy`.
 */
const OPTIMIZER_ALIASES: Record<string, string> = {
  // HF Trainer OptimizerNames and torch.optim.AdamW are the same AdamW update.
  adamwtorch: 'adamw',
  adamwhf: 'adamw',
  adamwtorchfused: 'adamw',
  adamwapexfused: 'adamw',
  adamwtorchxla: 'adamw',
  adamwtorchnpufused: 'adamw',
  // bitsandbytes 8-bit AdamW under its kohya, HF and class names.
  adamwbnb8bit: 'adamw8bit',
  adamw8bit: 'adamw8bit',
  pagedadamw8bit: 'pagedadamw8bit',
  pagedadamw32bit: 'pagedadamw',
  lion32bit: 'lion',
  pagedlion32bit: 'pagedlion',
  // kohya's DAdaptation is DAdaptAdamPreprint.
  dadaptadampreprint: 'dadaptation',
  adafactor: 'adafactor',
};

/** Query spellings of each base model family, keyed by the squashed form (lower case, `.`/`-`/`_`/spaces removed). */
const FAMILY_ALIASES: Record<string, string> = {
  sd15: 'sd15',
  sdv15: 'sd15',
  sd1: 'sd15',
  sdv1: 'sd15',
  stablediffusion15: 'sd15',
  sd2: 'sd2',
  sd20: 'sd2',
  sd21: 'sd2',
  sdv2: 'sd2',
  sdxl: 'sdxl',
  xl: 'sdxl',
  sdxl10: 'sdxl',
  sd3: 'sd3',
  sd35: 'sd3',
  flux: 'flux',
  flux1: 'flux',
};

/** Field names from the tools' own configs (and common misspellings) that mean a query field. */
export const FIELD_ALIASES: Record<string, string> = {
  lora_rank: 'rank',
  network_dim: 'rank',
  r: 'rank',
  lora_alpha: 'alpha',
  network_alpha: 'alpha',
  learning_rate: 'lr',
  loss_final: 'loss',
  epoch: 'epochs',
  num_train_epochs: 'epochs',
  max_train_epochs: 'epochs',
  batch_size: 'batch',
  train_batch_size: 'batch',
  family: 'base',
  base_model_family: 'base',
  base_model: 'model',
  optimiser: 'optimizer',
  optimizer_type: 'optimizer',
  optim: 'optimizer',
  tags: 'tag',
  run_id: 'id',
};

/**
 * Canonical short optimizer name: the last dotted segment of a class path, lower case, without `_`/`-` and any
 * `(args)`, with known aliases folded (`bitsandbytes.optim.adamw.AdamW8bit` → `adamw8bit`, `adamw_torch` → `adamw`).
 */
export function canonicalOptimizer(raw: string | null | undefined): string | null {
  if (!raw) {
    return null;
  }
  const name = raw.trim().replace(/\(.*$/s, '').split('.').pop() ?? '';
  const squashed = name.toLowerCase().replace(/[\s_-]+/g, '');
  if (squashed === '') {
    return null;
  }
  return OPTIMIZER_ALIASES[squashed] ?? squashed;
}

/** The family a typed `base:` value means (`sd1.5`, `SD-1.5`, `sd_xl` → `sd15`, `sdxl`), else the value lower-cased. */
export function canonicalFamily(value: string): string {
  const squashed = value.toLowerCase().replace(/[\s._-]+/g, '');
  return FAMILY_ALIASES[squashed] ?? value.toLowerCase();
}
