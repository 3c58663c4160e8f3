import { SPECIFICITY, type Markers } from '../kit/markers.ts';

/** Files only LLaMA-Factory writes into an output dir; any of them at the root makes the folder LLaMA-Factory's. */
const OWN_FILES = ['trainer_log.jsonl', 'training_args.yaml', 'llamaboard_config.yaml', 'running_log.txt'];

/** Files that show training (or evaluation) happened; a folder holding only a saved config is not a run. */
const RUN_EVIDENCE = [
  'trainer_log.jsonl',
  'running_log.txt',
  'trainer_state.json',
  'adapter_config.json',
  '+([a-z])_results.json',
  'checkpoint-+([0-9])/**/*',
  'last-checkpoint/**/*',
];

/**
 * A marker at the root plus evidence of a run. LLaMA-Factory trains through the HF Trainer and writes its files too; its
 * own files on top of them are the more specific evidence. A marker alone (the web UI saves its YAMLs before training)
 * still makes the folder LLaMA-Factory's, so no other format reads those YAMLs as a run of its own.
 */
export const llamaFactoryMarkers: Markers = {
  rules: [
    { all: [OWN_FILES, RUN_EVIDENCE], specificity: SPECIFICITY.toolOverLibrary },
    { all: [OWN_FILES], specificity: SPECIFICITY.toolOverLibrary, run: false },
  ],
};
