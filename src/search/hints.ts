import { resolveFieldName } from './filters.ts';
import { tokenize } from './tokenize.ts';

/** A query that parses but probably does not say what was meant; `pos` is where to put the caret. */
export interface QueryHint {
  message: string;
  pos: number;
}

/**
 * Spellings that parse as plain words and so silently match nothing: `rank=8` (a filter written with `=`) and a
 * lower-case `and`/`or`/`not` between terms. The query still runs as written; the hints go to stderr.
 * Call only on a query that tokenizes (after `parseQuery` succeeded).
 */
export function queryHints(text: string): QueryHint[] {
  const hints: QueryHint[] = [];
  const tokens = tokenize(text);
  for (const [i, t] of tokens.entries()) {
    if (t.type !== 'word') {
      continue;
    }
    const eq = /^([A-Za-z_][A-Za-z0-9_]*)(==?)(.+)$/.exec(t.text);
    const field = eq ? resolveFieldName(eq[1] as string) : null;
    if (eq && field) {
      hints.push({ message: `'${t.text}' is searched as a word: write ${field}:${eq[3]} to filter`, pos: t.pos + (eq[1] as string).length });
      continue;
    }
    const lower = t.text.toLowerCase();
    const between = i > 0 && tokens[i + 1]?.type !== 'eof';
    if ((lower === 'and' || lower === 'or' || lower === 'not') && t.text !== t.text.toUpperCase() && between) {
      hints.push({ message: `'${t.text}' is searched as a word: keywords are upper case (${t.text.toUpperCase()})`, pos: t.pos });
    }
  }
  return hints;
}
