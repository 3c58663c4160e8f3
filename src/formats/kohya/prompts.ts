import { parseTolerantJson } from '../../text/tolerant-json.ts';
import { parseTomlText } from './config.ts';
import { isTable } from './schema.ts';

/** Prompts kept per run; sample prompt files are short, generated ones are not. */
export const MAX_PROMPTS = 50;

/** A prompt longer than this is cut: it is for display and search, not for replay. */
const MAX_PROMPT_CHARS = 2000;

/**
 * Prompts from a `--sample_prompts` file (`library/train_util.py` sample_images): `.txt` has one prompt per line with
 * inline options (`--n negative`, `--w 512`, `--s 28`…, all stripped) and `#` comments; `.toml` and `.json` hold
 * `prompt` keys. Never throws.
 */
export function parseSamplePrompts(text: string, fileName: string): string[] {
  const body = text.replace(/^\uFEFF/, '');
  if (/\.toml$/i.test(fileName)) {
    const doc = parseTomlText(body);
    return doc.ok ? clean(collectPrompts(doc.value)) : [];
  }
  if (/\.json$/i.test(fileName)) {
    const doc = parseTolerantJson(body);
    return doc.ok ? clean(collectPrompts(doc.value)) : [];
  }
  return clean(body.split(/\r?\n/).filter((line) => !line.trim().startsWith('#')));
}

/** The text of one prompt line without kohya's inline options (` --n …`, ` --w …`). */
export function stripPromptOptions(line: string): string {
  const cut = /(^|\s)--[a-z]+\b/.exec(line);
  return (cut ? line.slice(0, cut.index) : line).trim();
}

// --- internal ---

function clean(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const prompt = stripPromptOptions(line).slice(0, MAX_PROMPT_CHARS);
    if (prompt !== '' && out.length < MAX_PROMPTS) {
      out.push(prompt);
    }
  }
  return out;
}

function collectPrompts(value: unknown, depth = 0): string[] {
  if (depth > 8) {
    return [];
  }
  if (Array.isArray(value)) {
    return value.flatMap((item) => collectPrompts(item, depth + 1));
  }
  if (!isTable(value)) {
    return [];
  }
  return Object.entries(value).flatMap(([key, item]) => (key === 'prompt' && typeof item === 'string' ? [item] : collectPrompts(item, depth + 1)));
}
