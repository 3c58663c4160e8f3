import { markerMatcher } from '../kit/markers.ts';
import type { DirListing } from '../types.ts';

/** Files only LLaMA-Factory writes into an output dir; any of them at the root makes the folder LLaMA-Factory's. */
export const LLAMA_FACTORY_MARKERS = ['trainer_log.jsonl', 'training_args.yaml', 'llamaboard_config.yaml', 'running_log.txt'] as const;

/** Files that show training (or evaluation) happened; a folder holding only a saved config is not a run. */
const RUN_EVIDENCE = [
  'trainer_log.jsonl',
  'running_log.txt',
  'trainer_state.json',
  'adapter_config.json',
  '+([a-z])_results.json',
  'checkpoint-+([0-9])/**/*',
] as const;

const hasMarker = markerMatcher(LLAMA_FACTORY_MARKERS);
const hasRunEvidence = markerMatcher(RUN_EVIDENCE);

/** LLaMA-Factory output dir: a marker at the root plus evidence of a run. Pure over the listing. */
export function detectLlamaFactory(listing: DirListing): boolean {
  return hasMarker(listing) && hasRunEvidence(listing);
}
