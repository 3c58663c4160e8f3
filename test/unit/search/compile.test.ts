import type { estypes } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { runsMappings } from '../../../src/es/mappings.ts';
import { compileQuery, SEARCH_FIELDS, TEXT_FIELDS } from '../../../src/search/compile.ts';
import { parseQuery } from '../../../src/search/parse.ts';

const NOW = new Date('2025-07-01T00:00:00Z');
type Q = estypes.QueryDslQueryContainer;

const latin = (query: string): Q => ({ multi_match: { query, fields: [...TEXT_FIELDS], type: 'best_fields', operator: 'and' } });
const phrase = (query: string): Q => ({ multi_match: { query, fields: [...TEXT_FIELDS], type: 'phrase' } });
const range = (field: string, bounds: Record<string, number | string>): Q => ({ range: { [field]: bounds } });
const anyOf = (...should: Q[]): Q => ({ bool: { should, minimum_should_match: 1 } });

function compile(text: string, cjkFields = false): Q {
  return compileQuery(parseQuery(text), { now: NOW, cjkFields });
}

describe('search/compile', () => {
  it('compiles the reference query: free text in must, the loss range in filter', () => {
    expect(compile('cyberpunk loss<0.05')).toEqual({
      bool: { must: [latin('cyberpunk')], filter: [range('loss_final', { lt: 0.05 })] },
    });
  });

  it.each<[string, Q]>([
    ['rank:8', range('lora_rank', { gte: 8, lte: 8 })],
    ['alpha:16', range('lora_alpha', { gte: 16, lte: 16 })],
    ['loss<=0.05', range('loss_final', { lte: 0.05 })],
    ['loss>0.1', range('loss_final', { gt: 0.1 })],
    ['loss:0.01..0.05', range('loss_final', { gte: 0.01, lte: 0.05 })],
    ['lr:1e-4..3e-4', range('learning_rate', { gte: 1e-4, lte: 3e-4 })],
    ['lr<3e-4', range('learning_rate', { lt: 3e-4 })],
    ['epochs:10', range('epochs', { gte: 10, lte: 10 })],
    ['batch:4', range('batch_size', { gte: 4, lte: 4 })],
    ['since:30d', range('created_at', { gte: '2025-06-01T00:00:00.000Z' })],
    ['since:12h', range('created_at', { gte: '2025-06-30T12:00:00.000Z' })],
    ['since:2025-01-01', range('created_at', { gte: '2025-01-01T00:00:00.000Z' })],
    ['before:1w', range('created_at', { lt: '2025-06-24T00:00:00.000Z' })],
    ['format:hf', { term: { format: 'hf-peft' } }],
    ['status:parse_error', { term: { status: 'parse_error' } }],
    ['optimizer:AdamW8bit', anyOf({ term: { optimizer_name: 'adamw8bit' } }, { term: { optimizer: { value: 'adamw8bit', case_insensitive: true } } })],
    [
      'optimizer:bitsandbytes.optim.adamw.AdamW8bit',
      anyOf({ term: { optimizer_name: 'adamw8bit' } }, { term: { optimizer: { value: 'bitsandbytes.optim.adamw.adamw8bit', case_insensitive: true } } }),
    ],
    ['optimizer:adamw_torch', anyOf({ term: { optimizer_name: 'adamw' } }, { term: { optimizer: { value: 'adamw_torch', case_insensitive: true } } })],
    ['base:sd1.5', anyOf({ term: { base_model_family: { value: 'sd15', case_insensitive: true } } }, { match_phrase: { 'base_model.text': 'sd1.5' } })],
    ['base:SD-XL', anyOf({ term: { base_model_family: { value: 'sdxl', case_insensitive: true } } }, { match_phrase: { 'base_model.text': 'SD-XL' } })],
    ['lora_rank:8', range('lora_rank', { gte: 8, lte: 8 })],
    ['network_dim>=16', range('lora_rank', { gte: 16 })],
    ['base:SD15', anyOf({ term: { base_model_family: { value: 'sd15', case_insensitive: true } } }, { match_phrase: { 'base_model.text': 'SD15' } })],
    [
      'model:runwayml/stable-diffusion-v1-5',
      anyOf(
        { term: { base_model: { value: 'runwayml/stable-diffusion-v1-5', case_insensitive: true } } },
        { match_phrase: { 'base_model.text': 'runwayml/stable-diffusion-v1-5' } },
      ),
    ],
    ['tag:"blue hair"', anyOf({ term: { tags: { value: 'blue hair', case_insensitive: true } } }, { match_phrase: { tag_text: 'blue hair' } })],
    ['id:3F2A', { prefix: { run_id: '3f2a' } }],
    ['id:3F2A9C1E-0000-4000-8000-000000000001', { ids: { values: ['3f2a9c1e-0000-4000-8000-000000000001'] } }],
  ])('compiles the filter %s to a non-scoring filter clause', (query, clause) => {
    expect(compile(query)).toEqual({ bool: { filter: [clause] } });
  });

  it.each<[string, Q]>([
    ['cyberpunk', { bool: { must: [latin('cyberpunk')] } }],
    ['"neon city"', { bool: { must: [phrase('neon city')] } }],
    ['建筑', { bool: { must: [phrase('建筑')] } }],
    ['cyber建筑', { bool: { must: [phrase('cyber建筑')] } }],
    [
      'cyberpunk 建筑 rank:8 loss<0.05',
      {
        bool: {
          must: [latin('cyberpunk'), phrase('建筑')],
          filter: [range('lora_rank', { gte: 8, lte: 8 }), range('loss_final', { lt: 0.05 })],
        },
      },
    ],
    ['rank:8 OR rank:16', { bool: { filter: [anyOf(range('lora_rank', { gte: 8, lte: 8 }), range('lora_rank', { gte: 16, lte: 16 }))] } }],
    ['a OR rank:16', { bool: { must: [anyOf(latin('a'), range('lora_rank', { gte: 16, lte: 16 }))] } }],
    ['NOT format:kohya', { bool: { must_not: [{ term: { format: 'kohya' } }] } }],
    ['city -night', { bool: { must: [latin('city')], must_not: [latin('night')] } }],
    ['(a rank:8) OR b', { bool: { must: [anyOf({ bool: { must: [latin('a')], filter: [range('lora_rank', { gte: 8, lte: 8 })] } }, latin('b'))] } }],
    ['a OR -b', { bool: { must: [anyOf(latin('a'), { bool: { must_not: [latin('b')] } })] } }],
    ['', { match_all: {} }],
  ])('compiles %s', (query, expected) => {
    expect(compile(query)).toEqual(expected);
  });

  it('adds the .cjk and .ik multi-fields to CJK phrases when asked, and only to those', () => {
    const query = compile('建筑 city', true);

    const [cjk, latinWord] = (query.bool?.must ?? []) as Q[];
    expect(cjk?.multi_match?.fields).toEqual(expect.arrayContaining(['prompt_example.cjk', 'prompt_example.ik', 'notes.cjk', 'tag_text.ik']));
    expect(cjk?.multi_match?.type).toBe('phrase');
    expect(latinWord).toEqual(latin('city'));
  });

  it('relies only on fields the runs index mapping has, with the expected types', () => {
    const properties = runsMappings({ cjk: false, ik: false }).properties ?? {};

    for (const [field, type] of Object.entries(SEARCH_FIELDS)) {
      expect({ field, type: mappingKind(properties, field) }).toEqual({ field, type });
    }
  });
});

function mappingKind(properties: Record<string, estypes.MappingProperty>, field: string): string | null {
  const [head, sub] = field.split('.') as [string, string | undefined];
  const prop = properties[head] as { type?: string; fields?: Record<string, { type?: string }>; properties?: Record<string, estypes.MappingProperty> };
  const type = sub === undefined ? prop?.type : (prop?.fields?.[sub]?.type ?? (prop?.properties ? mappingKind(prop.properties, sub) : undefined));
  if (type === 'double' || type === 'long' || type === 'integer' || type === 'float') {
    return 'numeric';
  }
  return type ?? null;
}
