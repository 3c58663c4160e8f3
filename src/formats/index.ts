// The format adapters: one folder per training tool's layout (detect + parse), the shared readers in common/ and kit/,
// and the core that runs them (parse-run.ts). This file is the registry.
import type { FormatAdapter } from './types.ts';
import { hfPeft } from './hf-peft/index.ts';
import { kohya } from './kohya/index.ts';
import { llamaFactory } from './llama-factory/index.ts';
import { loraScriptsYaml } from './lora-scripts-yaml/index.ts';

/**
 * Adapters in the order they are tried. Their `detect` rules are written to be mutually exclusive;
 * when two still match one folder, the run becomes an `ambiguous-layout` parse error instead of
 * letting the first one win.
 */
export const adapters: readonly FormatAdapter[] = [loraScriptsYaml, kohya, llamaFactory, hfPeft];
