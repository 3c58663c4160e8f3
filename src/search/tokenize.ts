import { QueryError } from '../errors.ts';

export type FilterOp = ':' | '<' | '<=' | '>' | '>=';

export type Token =
  | { type: 'lparen' | 'rparen' | 'or' | 'and' | 'not' | 'minus' | 'eof'; pos: number }
  | { type: 'word' | 'phrase'; text: string; pos: number }
  | { type: 'filter'; field: string; pos: number; op: FilterOp; opPos: number; value: string; valuePos: number };

/** Longer queries are almost certainly pasted garbage; the cap also bounds the parser's work. */
export const MAX_QUERY_LENGTH = 4096;

/** Splits a query into tokens; every failure is a QueryError pointing at the offending character. */
export function tokenize(input: string): Token[] {
  if (input.length > MAX_QUERY_LENGTH) {
    throw new QueryError(`query too long: at most ${MAX_QUERY_LENGTH} characters`, MAX_QUERY_LENGTH);
  }
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i] as string;
    if (/\s/u.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')') {
      tokens.push({ type: ch === '(' ? 'lparen' : 'rparen', pos: i });
      i++;
    } else if (OPEN_QUOTES.has(ch)) {
      const { text, end } = readQuoted(input, i);
      tokens.push({ type: 'phrase', text, pos: i });
      i = end;
    } else if (ch === '-' && startsTerm(input[i + 1])) {
      tokens.push({ type: 'minus', pos: i });
      i++;
    } else if (ch === '-') {
      throw new QueryError("expected a term right after '-' (write -word to exclude it)", i);
    } else {
      i = readWordOrFilter(input, i, tokens);
    }
  }
  tokens.push({ type: 'eof', pos: input.length });
  return tokens;
}

// --- internal ---

/** Straight quotes plus the curly ones Chinese and English input methods produce. */
const OPEN_QUOTES = new Set(['"', '\u201c']);
const CLOSE_QUOTES = new Set(['"', '\u201d']);
const KEYWORDS = new Map<string, 'or' | 'and' | 'not'>([
  ['OR', 'or'],
  ['AND', 'and'],
  ['NOT', 'not'],
]);
const FIELD_PREFIX = /^([A-Za-z_][A-Za-z0-9_]*)(<=|>=|:|<|>)/;

function isBreak(ch: string): boolean {
  return /\s/u.test(ch) || ch === '(' || ch === ')' || OPEN_QUOTES.has(ch);
}

function startsTerm(ch: string | undefined): boolean {
  return ch !== undefined && ch !== ')' && ch !== '-' && !/\s/u.test(ch);
}

function readQuoted(input: string, start: number): { text: string; end: number } {
  let j = start + 1;
  while (j < input.length && !CLOSE_QUOTES.has(input[j] as string)) {
    j++;
  }
  if (j >= input.length) {
    throw new QueryError('unclosed quote: expected a closing "', start);
  }
  const text = input.slice(start + 1, j);
  if (text.trim() === '') {
    throw new QueryError('expected text between the quotes', start);
  }
  return { text, end: j + 1 };
}

function readBare(input: string, start: number): number {
  let j = start;
  while (j < input.length && !isBreak(input[j] as string)) {
    j++;
  }
  return j;
}

function readWordOrFilter(input: string, start: number, tokens: Token[]): number {
  const m = FIELD_PREFIX.exec(input.slice(start, start + 64));
  if (m) {
    const field = m[1] as string;
    const op = m[2] as FilterOp;
    const opPos = start + field.length;
    const valuePos = opPos + op.length;
    const next = input[valuePos];
    if (next !== undefined && OPEN_QUOTES.has(next)) {
      const { text, end } = readQuoted(input, valuePos);
      tokens.push({ type: 'filter', field, pos: start, op, opPos, value: text, valuePos: valuePos + 1 });
      return end;
    }
    const end = readBare(input, valuePos);
    tokens.push({ type: 'filter', field, pos: start, op, opPos, value: input.slice(valuePos, end), valuePos });
    return end;
  }
  const end = readBare(input, start);
  const text = input.slice(start, end);
  const keyword = KEYWORDS.get(text);
  tokens.push(keyword ? { type: keyword, pos: start } : { type: 'word', text, pos: start });
  return end;
}
