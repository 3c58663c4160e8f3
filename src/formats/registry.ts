// The format registry: one line per format, naming the adapter its folder exports. A new format is its folder plus one line here.
export { hfPeft } from './hf-peft/index.ts';
export { kohya } from './kohya/index.ts';
export { llamaFactory } from './llama-factory/index.ts';
export { loraScriptsYaml } from './lora-scripts-yaml/index.ts';
