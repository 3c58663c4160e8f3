import type { ParseContext } from '../types.ts';
import { MAX_PROMPTS, parseSamplePrompts } from './prompts.ts';

/** Prompt files written next to kohya outputs: FluxGym `sample_prompts.txt`, kohya_ss GUI `sample/prompt.txt`. */
const PROMPT_FILES = ['sample_prompts.txt', 'sample_prompts.toml', 'sample_prompts.json', 'prompt.txt', 'sample/prompt.txt', 'samples/prompt.txt'];

/** Prompt files are a few lines; anything larger is not one. */
const MAX_PROMPT_FILE_BYTES = 256 * 1024;

/**
 * The run's sample prompts: the file named by the config's `sample_prompts` when it is inside the run folder, else a
 * well-known prompt file; a `sample_prompts` value that is not a file name (kohya_ss GUI JSON) is the prompt text.
 */
export async function readPrompts(ctx: ParseContext, samplePrompts: string | undefined): Promise<string[]> {
  const { listing } = ctx;
  const names = new Map(listing.names.map((name, i) => [name, listing.entries[i]]));
  const configured = samplePrompts?.replaceAll('\\', '/');
  if (configured !== undefined && !/\.(txt|toml|json)$/i.test(configured)) {
    return parseSamplePrompts(configured, 'prompts.txt').slice(0, MAX_PROMPTS);
  }
  // The configured path is the training machine's; match it by its tail against the run folder's files.
  const wanted = configured ? listing.names.filter((name) => configured === name || configured.endsWith(`/${name}`)) : [];
  for (const name of [...wanted, ...PROMPT_FILES]) {
    const entry = names.get(name);
    if (!entry || entry.size > MAX_PROMPT_FILE_BYTES) {
      continue;
    }
    try {
      const text = await ctx.readText(entry.key, MAX_PROMPT_FILE_BYTES);
      if (text !== null) {
        return parseSamplePrompts(text, name);
      }
    } catch (err) {
      ctx.warn(err instanceof Error ? err.message : String(err));
    }
  }
  return [];
}
