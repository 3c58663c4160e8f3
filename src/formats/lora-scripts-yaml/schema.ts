import { z } from 'zod';

const num = z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v), z.number().finite());
const optNum = num.optional().catch(undefined);
const optStr = z.string().optional().catch(undefined);
const strList = z
  .preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : v,
    z.array(z.string()),
  )
  .optional()
  .catch(undefined);

/** The article's YAML config: only the keys we read; anything else is kept in config.values untouched. */
export const LoraScriptsConfig = z.object({
  run_id: optStr,
  train_data_dir: optStr,
  metadata_path: optStr,
  base_model: optStr,
  lora_rank: optNum,
  lora_alpha: optNum,
  batch_size: optNum,
  epochs: optNum,
  max_train_steps: optNum,
  learning_rate: optNum,
  optimizer: optStr,
  resolution: z.union([z.number(), z.string()]).optional().catch(undefined),
  output_dir: optStr,
  output_name: optStr,
  save_steps: optNum,
  task_type: optStr,
  prompt_example: optStr,
  sample_prompt: optStr,
  validation_prompt: optStr,
  prompts: z.array(z.string()).optional().catch(undefined),
  tags: strList,
  notes: optStr,
  description: optStr,
});
export type LoraScriptsConfig = z.infer<typeof LoraScriptsConfig>;

/** The keys that make a YAML file this format's config (at least one besides generic ones). */
export const SIGNATURE_KEYS = ['lora_rank', 'train_data_dir', 'base_model'] as const;
