import type { Client, estypes } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSearchCommands, type SearchCommand } from '../../src/cli/search.ts';
import { bestRuns, bestRunsPerFamily, searchRuns, showRun, similarRuns } from '../../src/search/run.ts';
import { FIXTURE_NOW, ids, RUN_IDS, SEARCH_RUNS, toSearchDoc } from '../fixtures/search/runs.ts';
import { deleteIndexQuietly, esClient, uniqueName } from './helpers.ts';

const keyword = { type: 'keyword' } as const;
const lowerKeyword = { type: 'keyword', normalizer: 'lowercase_keyword' } as const;
const text = { type: 'text', analyzer: 'standard' } as const;
const double = { type: 'double' } as const;
const date = { type: 'date' } as const;

/** The fields src/search relies on (SEARCH_FIELDS), standard analyzer only; the rest of the record is stored, not indexed. */
const MAPPING: estypes.MappingTypeMapping = {
  dynamic: false,
  properties: {
    run_id: keyword,
    source: { properties: { uri: keyword } },
    format: keyword,
    status: keyword,
    base_model: { type: 'keyword', fields: { text } },
    base_model_family: lowerKeyword,
    optimizer: lowerKeyword,
    tags: lowerKeyword,
    config_hash: keyword,
    lora_rank: double,
    lora_alpha: double,
    learning_rate: double,
    loss_final: double,
    epochs: double,
    batch_size: double,
    created_at: date,
    started_at: date,
    prompt_example: text,
    prompts: text,
    notes: text,
    tag_text: text,
    dataset_text: text,
    output_name: { type: 'keyword', fields: { text } },
  },
};

describe('search (integration)', () => {
  let client: Client;
  let index: string;

  beforeAll(async () => {
    client = esClient();
    index = uniqueName('search-it');
    await client.indices.create({
      index,
      settings: { number_of_shards: 1, analysis: { normalizer: { lowercase_keyword: { type: 'custom', filter: ['lowercase'] } } } },
      mappings: MAPPING,
    });
    await client.bulk({
      refresh: 'wait_for',
      operations: SEARCH_RUNS.flatMap((r) => [{ index: { _index: index, _id: r.run_id } }, toSearchDoc(r)]),
    });
  });

  afterAll(async () => {
    await deleteIndexQuietly(client, index);
  });

  it.each([
    ['cyberpunk 建筑 rank:8 loss<0.05', ['r1', 'r8']],
    ['建筑', ['r1', 'r2', 'r3', 'r6', 'r8']],
    ['"建筑"', ['r1', 'r2', 'r3', 'r6', 'r8']],
    ['rank:8 OR rank:16', ['r1', 'r2', 'r3', 'r4', 'r5', 'r8', 'r9']],
    ['NOT format:kohya', ['r1', 'r4', 'r5', 'r6', 'r8', 'r11']],
    ['-format:kohya -format:hf', ['r1', 'r6', 'r8', 'r11']],
    ['lr:1e-4..3e-4', ['r1', 'r2', 'r3', 'r5', 'r6', 'r7', 'r8', 'r9']],
    ['lr<1e-4', []],
    ['since:30d', ['r1', 'r3', 'r4', 'r5', 'r8', 'r9', 'r10']],
    ['before:2025-03-01', ['r6', 'r7']],
    ['base:sd15', ['r1', 'r2', 'r4', 'r7', 'r8', 'r9']],
    ['model:stabilityai/stable-diffusion-xl-base-1.0', ['r3', 'r11', 'r12']],
    ['status:failed OR status:parse_error', ['r6', 'r10']],
    ['tag:cyberpunk', ['r1', 'r8']],
    ['tag:"neon lights"', ['r1', 'r8']],
    ['optimizer:adamw8bit epochs:10 batch:4', ['r1']],
    ['cyber_city_r8', ['r1']],
    ['10_cyberpunk_city', ['r1', 'r8']],
    ['(watercolor OR 微调) -cat', ['r5', 'r11']],
    [`id:${RUN_IDS.r3}`, ['r3']],
    ['', Object.keys(RUN_IDS)],
  ])('%s', async (query, expected) => {
    const result = await searchRuns(client, index, query, { now: FIXTURE_NOW, size: 50 });

    expect(result.hits.map((h) => h.run_id).sort()).toEqual(ids(...expected));
    expect(result.total).toBe(expected.length);
  });

  it('cjkFields is harmless where the index has no .cjk/.ik multi-fields (this cluster has no cjk analyzer)', async () => {
    const result = await searchRuns(client, index, '建筑 rank:8', { now: FIXTURE_NOW, cjkFields: true });

    expect(result.hits.map((h) => h.run_id).sort()).toEqual(ids('r1', 'r2', 'r8'));
  });

  it('fills every hit field from the stored record', async () => {
    const result = await searchRuns(client, index, 'optimizer:adamw8bit', { now: FIXTURE_NOW });

    expect(result.hits).toEqual([
      {
        run_id: RUN_IDS.r1, score: 0, format: 'lora-scripts-yaml', status: 'completed', base_model: 'runwayml/stable-diffusion-v1-5',
        lora_rank: 8, learning_rate: 1e-4, loss_final: 0.04, created_at: '2025-06-25T10:00:00Z',
        prompt_example: '赛博朋克 建筑 夜景, cyberpunk city', source_uri: '/mnt/lab/runs/r1',
      },
    ]);
  });

  it("returns the reference article's query results for the same plain text + loss filter", async () => {
    const literal = await client.search({
      index,
      query: { bool: { must: [{ match: { prompt_example: 'cyberpunk' } }], filter: [{ range: { loss_final: { lt: 0.05 } } }] } },
    });

    const ours = await searchRuns(client, index, 'cyberpunk loss<0.05', { now: FIXTURE_NOW });

    expect(literal.hits.hits.map((h) => h._id).sort()).toEqual(ids('r1', 'r3', 'r4', 'r8'));
    expect(ours.hits.map((h) => h.run_id).sort()).toEqual(ids('r1', 'r3', 'r4', 'r8'));
  });

  it('showRun returns the stored record, or null for an unknown id', async () => {
    const found = await showRun(client, index, RUN_IDS.r5 as string);
    const missing = await showRun(client, index, '00000000-0000-4000-8000-999999999999');

    expect(found).toMatchObject({ run_id: RUN_IDS.r5, notes: '中文 对话 微调 chat' });
    expect(missing).toBeNull();
  });

  it('bestRuns lists completed runs by loss, one per config_hash, runs without a hash each on their own', async () => {
    const best = await bestRuns(client, index, { top: 20 });

    expect(best.map((b) => b.run_id)).toEqual(['r11', 'r12', 'r4', 'r3', 'r1', 'r2', 'r7', 'r5'].map((n) => RUN_IDS[n]));
    expect(best.find((b) => b.run_id === RUN_IDS.r1)?.same_config_runs).toBe(2);
  });

  it('bestRunsPerFamily ranks within each base-model family only (losses of SD and LLM runs do not compare)', async () => {
    const families = await bestRunsPerFamily(client, index, { top: 2 });

    expect(families.map((f) => [f.family, f.hits.map((h) => h.run_id)])).toEqual([
      ['sd15', ['r4', 'r1'].map((n) => RUN_IDS[n])],
      ['sdxl', ['r11', 'r12'].map((n) => RUN_IDS[n])],
      [null, [RUN_IDS.r7]],
      ['llama', [RUN_IDS.r5]],
    ]);
  });

  it('bestRuns filters by base and rank', async () => {
    const best = await bestRuns(client, index, { base: 'sd15', rank: 8, top: 2 });

    expect(best.map((b) => b.run_id)).toEqual([RUN_IDS.r4, RUN_IDS.r1]);
  });

  it('similarRuns ranks the re-run of the same config first and never returns the run itself', async () => {
    const similar = await similarRuns(client, index, RUN_IDS.r1 as string, 5);

    expect(similar?.[0]?.run_id).toBe(RUN_IDS.r8);
    expect(similar?.map((h) => h.run_id)).not.toContain(RUN_IDS.r1);
    expect(similar?.map((h) => h.run_id)).not.toContain(RUN_IDS.r11);
  });

  it('similarRuns returns null for an unknown run', async () => {
    expect(await similarRuns(client, index, '00000000-0000-4000-8000-999999999999')).toBeNull();
  });

  it.each<[string, SearchCommand, string[], boolean, number, (out: string) => void]>([
    ['search as a table on a TTY', 'search', ['cyberpunk', '建筑', 'rank:8', 'loss<0.05'], true, 0, (out) => {
      expect(out).toMatch(/^2 run\(s\)\nRUN\s+STATUS/);
      expect(out).toContain((RUN_IDS.r1 as string).slice(0, 8));
      expect(out).toContain('赛博朋克 建筑 夜景');
    }],
    ['search as JSON off a TTY', 'search', ['rank:8', 'OR', 'rank:16'], false, 0, (out) => {
      expect((JSON.parse(out) as { total: number }).total).toBe(7);
    }],
    ['search with no hit exits 1', 'search', ['tag:nothing-like-this'], false, 1, () => {}],
    ['show by id prefix', 'show', [(RUN_IDS.r5 as string).slice(0, 8)], true, 0, (out) => expect(out).toMatch(/notes\s+中文 对话 微调 chat/)],
    ['show of an unknown run exits 1', 'show', ['00000000-0000-4000-8000-999999999999'], false, 1, () => {}],
    ['show of an ambiguous prefix exits 2', 'show', ['0'], false, 2, () => {}],
    ['reproduce prints the config with its header', 'reproduce', [RUN_IDS.r1 as string], false, 0, (out) => {
      expect(out).toMatch(/^# lora-catalog: config of run/);
      expect(out).toContain('# output_dir: /out/cyber  output_name: cyber_city_r8');
      expect(out.endsWith('\n\nnetwork_dim: 8\nlearning_rate: 1e-4')).toBe(true);
    }],
    ['best without --base: one table per family', 'best', ['--top', '1'], true, 0, (out) => {
      expect(out.split('\n').filter((l) => l.startsWith('base model family'))).toEqual([
        'base model family sd15', 'base model family sdxl', 'base model family unknown (not comparable with any family)', 'base model family llama',
      ]);
    }],
    ['best as a table', 'best', ['--base', 'sd15', '--rank', '8'], true, 0, (out) => {
      expect(out.split('\n').slice(1).map((l) => l.slice(0, 8))).toEqual(['r4', 'r1', 'r2'].map((n) => (RUN_IDS[n] as string).slice(0, 8)));
    }],
    ['similar as JSON', 'similar', [RUN_IDS.r1 as string, '--size', '3'], false, 0, (out) => {
      expect((JSON.parse(out) as { hits: Array<{ run_id: string }> }).hits[0]?.run_id).toBe(RUN_IDS.r8);
    }],
  ])('cli: %s', async (_name, cmd, argv, tty, code, check) => {
    const out: string[] = [];
    const err: string[] = [];

    const exit = await runSearchCommands(cmd, argv, {
      client, index, now: FIXTURE_NOW, stdout: (t) => out.push(t), stderr: (t) => err.push(t), json: false, tty,
    });

    expect({ exit, err }).toMatchObject({ exit: code });
    check(out.join('\n'));
  });
});
