import { readSafetensorsHeader } from '../common/safetensors.ts';
import type { ParseContext } from '../types.ts';
import type { RunFiles } from './files.ts';
import { parseKohyaMetadata } from './metadata.ts';

/** Headers read for epoch ends; each is one or two small ranged reads. */
const MAX_CHECKPOINT_HEADERS = 200;

/**
 * Epoch → global step at its end, from `ss_epoch` / `ss_steps` of the run's epoch checkpoints (sd-scripts saves
 * `<name>-NNNNNN.safetensors` with the global step at the end of epoch NNNNNN) and of already-read metadata.
 */
export async function readCheckpointSteps(ctx: ParseContext, files: RunFiles, known: { epoch?: number; steps?: number } | null): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (known?.epoch !== undefined && known.steps !== undefined) {
    out.set(known.epoch, known.steps);
  }
  const checkpoints = files.weights.filter((w) => w.parsed.kind === 'epoch' && w.name.endsWith('.safetensors')).slice(0, MAX_CHECKPOINT_HEADERS);
  for (const file of checkpoints) {
    const header = await readSafetensorsHeader((range) => ctx.driver.read(file.key, range), file.size);
    if (!header.ok || header.metadata === null) {
      continue;
    }
    const meta = parseKohyaMetadata(header.metadata);
    if (meta.epoch !== undefined && meta.steps !== undefined && meta.epoch === file.parsed.epoch) {
      out.set(meta.epoch, meta.steps);
    }
  }
  return out;
}
