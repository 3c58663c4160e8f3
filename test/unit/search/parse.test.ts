import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QueryError } from '../../../src/errors.ts';
import { describeSyntax, parseQuery, type QueryNode } from '../../../src/search/parse.ts';
import { compileQuery } from '../../../src/search/compile.ts';
import { FILTER_FIELDS } from '../../../src/search/filters.ts';

const word = (text: string): QueryNode => ({ kind: 'text', text, phrase: false });
const phrase = (text: string): QueryNode => ({ kind: 'text', text, phrase: true });

describe('search/parse', () => {
  it.each<[string, QueryNode]>([
    ['', { kind: 'all' }],
    ['   ', { kind: 'all' }],
    ['cyberpunk', word('cyberpunk')],
    ['"blue hair"', phrase('blue hair')],
    ['“赛博朋克 城市”', phrase('赛博朋克 城市')],
    ['rank:8', { kind: 'range', field: 'rank', gte: 8, lte: 8 }],
    ['RANK:8', { kind: 'range', field: 'rank', gte: 8, lte: 8 }],
    ['alpha:16', { kind: 'range', field: 'alpha', gte: 16, lte: 16 }],
    ['loss<0.05', { kind: 'range', field: 'loss', lt: 0.05 }],
    ['loss<=0.05', { kind: 'range', field: 'loss', lte: 0.05 }],
    ['loss>0.1', { kind: 'range', field: 'loss', gt: 0.1 }],
    ['loss>=.1', { kind: 'range', field: 'loss', gte: 0.1 }],
    ['loss:0.01..0.05', { kind: 'range', field: 'loss', gte: 0.01, lte: 0.05 }],
    ['loss:..0.05', { kind: 'range', field: 'loss', lte: 0.05 }],
    ['loss:0.01..', { kind: 'range', field: 'loss', gte: 0.01 }],
    ['lr:1e-4..3e-4', { kind: 'range', field: 'lr', gte: 1e-4, lte: 3e-4 }],
    ['lr<5E-4', { kind: 'range', field: 'lr', lt: 5e-4 }],
    ['epochs:10', { kind: 'range', field: 'epochs', gte: 10, lte: 10 }],
    ['batch:4', { kind: 'range', field: 'batch', gte: 4, lte: 4 }],
    ['base:sd15', { kind: 'keyword', field: 'base', value: 'sd15' }],
    ['model:"runwayml/stable-diffusion-v1-5"', { kind: 'keyword', field: 'model', value: 'runwayml/stable-diffusion-v1-5' }],
    ['tag:"blue hair"', { kind: 'keyword', field: 'tag', value: 'blue hair' }],
    ['tag:赛博朋克', { kind: 'keyword', field: 'tag', value: '赛博朋克' }],
    ['optimizer:AdamW8bit', { kind: 'keyword', field: 'optimizer', value: 'AdamW8bit' }],
    ['id:3f2a', { kind: 'keyword', field: 'id', value: '3f2a' }],
    ['format:kohya', { kind: 'format', value: 'kohya' }],
    ['format:hf', { kind: 'format', value: 'hf-peft' }],
    ['format:peft', { kind: 'format', value: 'hf-peft' }],
    ['format:hf-peft', { kind: 'format', value: 'hf-peft' }],
    ['format:llamafactory', { kind: 'format', value: 'llama-factory' }],
    ['format:llama-factory', { kind: 'format', value: 'llama-factory' }],
    ['format:yaml', { kind: 'format', value: 'lora-scripts-yaml' }],
    ['format:lora-scripts', { kind: 'format', value: 'lora-scripts-yaml' }],
    ['format:lora-scripts-yaml', { kind: 'format', value: 'lora-scripts-yaml' }],
    ['status:completed', { kind: 'status', value: 'completed' }],
    ['status:failed', { kind: 'status', value: 'failed' }],
    ['status:running', { kind: 'status', value: 'running' }],
    ['status:unknown', { kind: 'status', value: 'unknown' }],
    ['status:parse_error', { kind: 'status', value: 'parse_error' }],
    ['status:parse-error', { kind: 'status', value: 'parse_error' }],
    ['since:30d', { kind: 'date', field: 'since', value: { kind: 'ago', amount: 30, unit: 'd' } }],
    ['since:12h', { kind: 'date', field: 'since', value: { kind: 'ago', amount: 12, unit: 'h' } }],
    ['since:6mo', { kind: 'date', field: 'since', value: { kind: 'ago', amount: 6, unit: 'mo' } }],
    ['since:2025-01-01', { kind: 'date', field: 'since', value: { kind: 'at', iso: '2025-01-01T00:00:00.000Z' } }],
    ['before:2025-06-30T12:00', { kind: 'date', field: 'before', value: { kind: 'at', iso: '2025-06-30T12:00:00.000Z' } }],
    ['before:2025-06-30T12:00+08:00', { kind: 'date', field: 'before', value: { kind: 'at', iso: '2025-06-30T04:00:00.000Z' } }],
    ['before:2w', { kind: 'date', field: 'before', value: { kind: 'ago', amount: 2, unit: 'w' } }],
  ])('parses the term %s', (query, expected) => {
    expect(parseQuery(query)).toEqual(expected);
  });

  it.each<[string, QueryNode]>([
    ['a b', { kind: 'and', children: [word('a'), word('b')] }],
    ['a AND b', { kind: 'and', children: [word('a'), word('b')] }],
    ['a OR b', { kind: 'or', children: [word('a'), word('b')] }],
    ['a OR b OR c', { kind: 'or', children: [word('a'), word('b'), word('c')] }],
    ['a b OR c', { kind: 'or', children: [{ kind: 'and', children: [word('a'), word('b')] }, word('c')] }],
    ['a (b OR c)', { kind: 'and', children: [word('a'), { kind: 'or', children: [word('b'), word('c')] }] }],
    ['NOT a', { kind: 'not', child: word('a') }],
    ['-a', { kind: 'not', child: word('a') }],
    ['-"a b"', { kind: 'not', child: phrase('a b') }],
    ['-(a OR b)', { kind: 'not', child: { kind: 'or', children: [word('a'), word('b')] } }],
    ['NOT NOT a', { kind: 'not', child: { kind: 'not', child: word('a') } }],
    ['a ((b c))', { kind: 'and', children: [word('a'), word('b'), word('c')] }],
    ['cyber-punk or', { kind: 'and', children: [word('cyber-punk'), word('or')] }],
    ['a"b c"', { kind: 'and', children: [word('a'), phrase('b c')] }],
    [
      'cyberpunk 建筑 rank:8 loss<0.05',
      {
        kind: 'and',
        children: [word('cyberpunk'), word('建筑'), { kind: 'range', field: 'rank', gte: 8, lte: 8 }, { kind: 'range', field: 'loss', lt: 0.05 }],
      },
    ],
    [
      '(rank:8 OR rank:16) -format:kohya',
      {
        kind: 'and',
        children: [
          {
            kind: 'or',
            children: [
              { kind: 'range', field: 'rank', gte: 8, lte: 8 },
              { kind: 'range', field: 'rank', gte: 16, lte: 16 },
            ],
          },
          { kind: 'not', child: { kind: 'format', value: 'kohya' } },
        ],
      },
    ],
  ])('parses the structure of %s', (query, expected) => {
    expect(parseQuery(query)).toEqual(expected);
  });

  it.each<[string, string, number]>([
    ['unknown field', 'cyberpunk foo:1', 10],
    ['bad number', 'rank:eight', 5],
    ['bad number after <', 'loss<0.0.5', 5],
    ['bad range maximum', 'loss:0.01..x', 11],
    ['empty range', 'rank:..', 5],
    ['range min > max', 'lr:3e-4..1e-4', 3],
    ['missing value', 'rank: 8', 5],
    ['comparison on a keyword field', 'format<kohya', 6],
    ['unknown format', 'format:diffusers', 7],
    ['unknown status', 'status:done', 7],
    ['bad date', 'since:yesterday', 6],
    ['impossible date', 'since:2025-02-30', 6],
    ['unclosed quote', 'a "blue hair', 2],
    ['unclosed quote in a value', 'tag:"blue', 4],
    ['empty quotes', 'a ""', 2],
    ['unclosed paren', 'x (a OR b', 2],
    ['unmatched close paren', 'a b)', 3],
    ['empty parens', 'a ()', 3],
    ['OR first', 'OR a', 0],
    ['OR last', 'a OR', 4],
    ['OR OR', 'a OR OR b', 5],
    ['NOT last', 'a NOT', 2],
    ['lone minus', 'a - b', 2],
  ])('rejects %s with the position of the offending character', (_kind, query, position) => {
    const error = catchError(() => parseQuery(query));

    expect(error).toBeInstanceOf(QueryError);
    expect(error).toMatchObject({ code: 'query-syntax', position });
  });

  it('lists the known fields when a field is unknown', () => {
    const error = catchError(() => parseQuery('colour:red'));

    expect((error as Error).message).toContain(Object.keys(FILTER_FIELDS).join(', '));
  });

  it.each([
    ['lora_rank:8', { kind: 'range', field: 'rank', gte: 8, lte: 8 }],
    ['network_dim:16', { kind: 'range', field: 'rank', gte: 16, lte: 16 }],
    ['learning_rate<1e-3', { kind: 'range', field: 'lr', lt: 1e-3 }],
    ['Optimiser:prodigy', { kind: 'keyword', field: 'optimizer', value: 'prodigy' }],
  ])('reads the field alias in %s as its query field', (query, expected) => {
    expect(parseQuery(query)).toEqual(expected);
  });

  it.each([
    ['optimzer:adamw', 'did you mean optimizer:?'],
    ['rnak:8', 'did you mean rank:?'],
  ])('suggests the closest field for the misspelt %s', (query, suggestion) => {
    expect((catchError(() => parseQuery(query)) as Error).message).toContain(suggestion);
  });

  it('rejects nesting beyond the limit with a QueryError, not a stack overflow', () => {
    expect(catchError(() => parseQuery('('.repeat(5000)))).toBeInstanceOf(QueryError);
    expect(catchError(() => parseQuery('NOT '.repeat(1000) + 'a'))).toBeInstanceOf(QueryError);
  });

  it('describes every field in the help text', () => {
    const help = describeSyntax();

    for (const field of Object.keys(FILTER_FIELDS)) {
      expect(help).toContain(`${field}:`);
    }
  });

  it('throws nothing but QueryError on any input, terminates, and compiles whatever parses', () => {
    const alphabet = fc.constantFrom(...'ab 建筑()"“”-:<>=.,0123456789eE'.split(''), 'OR', 'NOT', 'AND', 'rank', 'loss', 'since', 'format', 'tag');

    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.array(alphabet, { maxLength: 40 }).map((a) => a.join('')),
        ),
        (input) => {
          try {
            compileQuery(parseQuery(input), { now: new Date(0), cjkFields: true });
          } catch (err) {
            if (!(err instanceof QueryError) || err.position < 0 || err.position > input.length) {
              throw err;
            }
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}
