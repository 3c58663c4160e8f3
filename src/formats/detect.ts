import type { FormatId } from '../record/schema.ts';
import type { DirListing, FormatAdapter } from './types.ts';

/**
 * Layouts that contain another one: LLaMA-Factory writes the Hugging Face Trainer files plus its own, so a
 * folder both detect is LLaMA-Factory's. Only the core resolves a double match, from this table; any other
 * double match becomes an `ambiguous-layout` parse error (parse-run.ts).
 */
export const OUTRANKS: Partial<Record<FormatId, readonly FormatId[]>> = {
  'llama-factory': ['hf-peft'],
};

/** The adapters whose `detect` matches the folder, without those a more specific match outranks. */
export function detectAdapters(listing: DirListing, adapters: readonly FormatAdapter[]): FormatAdapter[] {
  const matched = adapters.filter((adapter) => adapter.detect(listing));
  return matched.filter((adapter) => !matched.some((other) => OUTRANKS[other.id]?.includes(adapter.id)));
}
