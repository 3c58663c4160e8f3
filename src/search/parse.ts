import { QueryError } from '../errors.ts';
import type { QueryNode } from './ast.ts';
import { FILTER_FIELDS, parseFilter } from './filters.ts';
import { tokenize, type Token } from './tokenize.ts';

export type * from './ast.ts';

/** Deeper nesting is never typed by a person; the cap keeps recursion far from the stack limit. */
export const MAX_NESTING = 64;

/**
 * Parses the run search syntax (see `describeSyntax()`) into an AST.
 * Grammar: `query := or? ; or := and ('OR' and)* ; and := unary+ ; unary := ('NOT' | '-') unary | '(' or ')' | term`.
 * Throws QueryError with the 0-based position of the offending character.
 */
export function parseQuery(text: string): QueryNode {
  const parser = new Parser(tokenize(text));
  if (parser.peek().type === 'eof') {
    return { kind: 'all' };
  }
  const node = parser.parseOr(0);
  const rest = parser.peek();
  if (rest.type === 'rparen') {
    throw new QueryError("unexpected ')' without a matching '('", rest.pos);
  }
  return node;
}

/** The help text for the query syntax, listing every field. */
export function describeSyntax(): string {
  const fields = Object.values(FILTER_FIELDS).map((spec) => `  ${spec.example.padEnd(36)} ${spec.meaning}`);
  return [
    'Query syntax (all terms must match unless joined by OR):',
    '  cyberpunk city          words, searched in prompts, tags, notes, dataset paths and output names',
    '  "blue hair"  "赛博朋克"  a phrase; Chinese words are always matched as a phrase',
    '  a OR b                  either (OR binds looser than the implicit AND)',
    '  NOT x   -x              exclude',
    '  ( … )                   grouping, e.g. (rank:8 OR rank:16) -format:kohya',
    '  field:value             filter; numbers also take <, <=, >, >= and min..max (either side may be left open)',
    '',
    'Fields:',
    ...fields,
    '',
    'Keywords OR, AND, NOT are upper case; quote a word with a colon (e.g. "s3://bucket") to search it as text.',
  ].join('\n');
}

// --- internal ---

class Parser {
  private readonly tokens: Token[];
  private index = 0;

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  peek(): Token {
    return this.tokens[Math.min(this.index, this.tokens.length - 1)] as Token;
  }

  parseOr(depth: number): QueryNode {
    const children = [this.parseAnd(depth)];
    while (this.peek().type === 'or') {
      this.index++;
      const next = this.peek();
      if (next.type === 'eof' || next.type === 'rparen' || next.type === 'or') {
        throw new QueryError('expected a search term after OR', next.pos);
      }
      children.push(this.parseAnd(depth));
    }
    return children.length === 1 ? (children[0] as QueryNode) : { kind: 'or', children: children.flatMap(orChildren) };
  }

  private parseAnd(depth: number): QueryNode {
    const children: QueryNode[] = [];
    for (;;) {
      const t = this.peek();
      if (t.type === 'and') {
        this.index++;
        this.expectTermAfter('AND', t.pos);
        continue;
      }
      if (t.type === 'eof' || t.type === 'rparen' || t.type === 'or') {
        break;
      }
      children.push(this.parseUnary(depth));
    }
    if (children.length === 0) {
      const t = this.peek();
      throw new QueryError(t.type === 'or' ? 'expected a search term before OR' : 'expected a search term', t.pos);
    }
    return children.length === 1 ? (children[0] as QueryNode) : { kind: 'and', children: children.flatMap(andChildren) };
  }

  private parseUnary(depth: number): QueryNode {
    if (depth > MAX_NESTING) {
      throw new QueryError(`query nested too deeply (more than ${MAX_NESTING} levels)`, this.peek().pos);
    }
    const t = this.peek();
    switch (t.type) {
      case 'not':
      case 'minus': {
        this.index++;
        this.expectTermAfter(t.type === 'not' ? 'NOT' : "'-'", t.pos);
        return { kind: 'not', child: this.parseUnary(depth + 1) };
      }
      case 'lparen': {
        this.index++;
        if (this.peek().type === 'rparen') {
          throw new QueryError("expected a search term inside '()'", this.peek().pos);
        }
        const inner = this.parseOr(depth + 1);
        if (this.peek().type !== 'rparen') {
          throw new QueryError("unclosed '(': expected ')'", t.pos);
        }
        this.index++;
        return inner;
      }
      case 'word':
      case 'phrase':
        this.index++;
        return { kind: 'text', text: t.text, phrase: t.type === 'phrase' };
      case 'filter':
        this.index++;
        return parseFilter(t);
      default:
        throw new QueryError('expected a search term', t.pos);
    }
  }

  private expectTermAfter(what: string, pos: number): void {
    const next = this.peek().type;
    if (next === 'eof' || next === 'rparen' || next === 'or' || next === 'and') {
      throw new QueryError(`expected a search term after ${what}`, next === 'eof' ? pos : this.peek().pos);
    }
  }
}

function orChildren(node: QueryNode): QueryNode[] {
  return node.kind === 'or' ? node.children : [node];
}

function andChildren(node: QueryNode): QueryNode[] {
  return node.kind === 'and' ? node.children : [node];
}
