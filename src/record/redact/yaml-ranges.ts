import { isMap, isPair, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { isSecretKey } from '../../secrets/keys.ts';
import { REDACTED, redactString } from '../../secrets/shapes.ts';

/** One source range to replace, with the text that goes in its place. */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

/**
 * Replacement edits for a YAML (or JSON, a YAML subset) document: every scalar under a secret key becomes a
 * quoted marker, and every other string scalar with a secret shape is re-written quoted with the shape
 * redacted. Ranges come from the parsed nodes, so flow maps, block and folded scalars are covered whole.
 * `null` when the text does not parse cleanly.
 */
export function yamlRedactionEdits(text: string): Edit[] | null {
  const doc = parseDocument(text, { uniqueKeys: false, keepSourceTokens: false });
  if (doc.errors.length > 0) {
    return null;
  }
  const edits: Edit[] = [];
  walk(doc.contents, false, { text, edits });
  return edits;
}

/** Applies non-overlapping edits (any order). */
export function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) {
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  }
  return out;
}

// --- internal ---

interface Walk {
  text: string;
  edits: Edit[];
}

function walk(node: unknown, underSecret: boolean, edits: Walk): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) {
        continue;
      }
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      walk(pair.value, underSecret || isSecretKey(key), edits);
    }
    return;
  }
  if (isSeq(node)) {
    for (const item of node.items) {
      walk(item, underSecret, edits);
    }
    return;
  }
  if (isScalar(node)) {
    scalarEdit(node, underSecret, edits);
  }
}

function scalarEdit(node: Node & { value: unknown }, underSecret: boolean, { text, edits }: Walk): void {
  const range = node.range;
  if (!range) {
    return;
  }
  const value = node.value;
  let replacement: string | null = null;
  if (underSecret && (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') && value !== '' && value !== REDACTED) {
    replacement = REDACTED;
  } else if (typeof value === 'string') {
    const redacted = redactString(value);
    replacement = redacted === value ? null : redacted;
  }
  if (replacement === null) {
    return;
  }
  // A block scalar's value range ends after its last line break; keep that break so the next key stays on its own line.
  const [start, end] = [range[0], range[1]];
  const newline = /\r?\n$/.exec(text.slice(start, end))?.[0] ?? '';
  edits.push({ start, end, text: JSON.stringify(replacement) + newline });
}
