import { describe, expect, it } from 'vitest';
import { canonicalFamily, canonicalOptimizer } from '../../../src/search/aliases.ts';

describe('search/aliases', () => {
  it.each([
    ['bitsandbytes.optim.adamw.AdamW8bit', 'adamw8bit'],
    ['AdamW8bit', 'adamw8bit'],
    ['adamw_bnb_8bit', 'adamw8bit'],
    ['adamw_8bit', 'adamw8bit'],
    ['adamw_torch', 'adamw'],
    ['adamw_hf', 'adamw'],
    ['adamw_torch_fused', 'adamw'],
    ['AdamW', 'adamw'],
    ['torch.optim.AdamW', 'adamw'],
    ['PagedAdamW8bit', 'pagedadamw8bit'],
    ['paged_adamw_8bit', 'pagedadamw8bit'],
    ['Lion', 'lion'],
    ['lion_32bit', 'lion'],
    ['prodigyopt.Prodigy', 'prodigy'],
    ['Prodigy', 'prodigy'],
    ['DAdaptation', 'dadaptation'],
    ['DAdaptAdamPreprint', 'dadaptation'],
    ['DAdaptAdam', 'dadaptadam'],
    ['AdaFactor', 'adafactor'],
    ['transformers.optimization.Adafactor', 'adafactor'],
    ['AdamW8bit(weight_decay=0.01)', 'adamw8bit'],
  ])('canonical optimizer of %s is %s', (raw, name) => {
    expect(canonicalOptimizer(raw)).toBe(name);
  });

  it.each([null, undefined, '', '  '])('has no canonical optimizer for %j', (raw) => {
    expect(canonicalOptimizer(raw)).toBeNull();
  });

  it.each([
    ['sd1.5', 'sd15'],
    ['SD15', 'sd15'],
    ['sd-1.5', 'sd15'],
    ['sd_v1.5', 'sd15'],
    ['sdxl', 'sdxl'],
    ['sd-xl', 'sdxl'],
    ['SD_XL', 'sdxl'],
    ['sd2.1', 'sd2'],
    ['sd3.5', 'sd3'],
    ['flux.1', 'flux'],
    ['qwen', 'qwen'],
    ['Llama', 'llama'],
  ])('base %s means the family %s', (typed, family) => {
    expect(canonicalFamily(typed)).toBe(family);
  });
});
