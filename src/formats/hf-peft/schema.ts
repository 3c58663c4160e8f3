/**
 * Raw files of a Hugging Face Trainer + PEFT output dir. The schemas are shared with LLaMA-Factory (which runs the
 * same Trainer), so they live in `../common/hf-trainer/schema.ts`; see readme.md for the layout.
 */
export { AdapterConfig, LogEntry, ResultsJson, TrainerState, TrainingArgsJson } from '../common/hf-trainer/schema.ts';
