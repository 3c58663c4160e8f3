import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client, estypes } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSearchCommands, type SearchCommand } from '../../src/cli/search.ts';
import { bestRuns, bestRunsPerFamily, searchRuns, showRun } from '../../src/search/run.ts';
import { similarRuns } from '../../src/search/similar.ts';
import { ensureIndex } from '../../src/es/indices.ts';
import { toRunDoc } from '../../src/sync/doc.ts';
import { FIXTURE_NOW, ids, makeRecord, RUN_IDS, SEARCH_RUNS, toSearchDoc } from '../fixtures/search/runs.ts';
import { deleteIndexQuietly, esClient, uniqueName } from './helpers.ts';
import { inject } from 'vitest';

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
    run_kind: keyword,
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
        run_id: RUN_IDS.r1,
        name: 'r1',
        score: 0,
        format: 'lora-scripts-yaml',
        status: 'completed',
        base_model: 'runwayml/stable-diffusion-v1-5',
        base_model_family: 'sd15',
        lora_rank: 8,
        learning_rate: 1e-4,
        loss_final: 0.04,
        eval_loss: null,
        created_at: '2025-06-25T10:00:00Z',
        prompt_example: '赛博朋克 建筑 夜景, cyberpunk city',
        source_uri: '/mnt/lab/runs/r1',
        state: 'active',
        vanished_at: null,
        retired_at: null,
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

  it('bestRuns leaves out evaluation-only folders, however low their loss', async () => {
    const evalId = 'e0a0c0de-0000-4000-8000-000000000001';
    const evaluation = { ...makeRecord('r1', { run_kind: 'evaluation', loss_final: 0.0001, config_hash: null }), run_id: evalId };
    await client.index({ index, id: evalId, document: toSearchDoc(evaluation), refresh: 'wait_for' });
    try {
      const best = await bestRuns(client, index, { top: 20 });

      expect(best.map((b) => b.run_id)).not.toContain(evalId);
      expect(best).toHaveLength(8);
    } finally {
      await client.delete({ index, id: evalId, refresh: 'wait_for' });
    }
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
    [
      'search as a table on a TTY',
      'search',
      ['cyberpunk', '建筑', 'rank:8', 'loss<0.05'],
      true,
      0,
      (out) => {
        expect(out).toMatch(/^NAME\s+RUN\s+STATUS/);
        expect(out).toMatch(new RegExp(`\\nr1\\s+${(RUN_IDS.r1 as string).slice(0, 8)}\\s+completed\\s+sd15 · stable-diffusion-v1-5\\s+8\\s+1e-4\\s+0\\.04`));
        expect(out).toContain('赛博朋克 建筑 夜景');
        expect(out.endsWith('\n2 run(s)')).toBe(true);
      },
    ],
    [
      'search as text off a TTY too, uncut, with a paging footer',
      'search',
      ['rank:8', 'OR', 'rank:16', '--size', '3', '--page', '2'],
      false,
      0,
      (out) => {
        expect(out.split('\n')).toHaveLength(5);
        expect(out.split('\n')[0]).toMatch(/^NAME\s+RUN\s+STATUS\s+FORMAT\s+BASE\s+RANK\s+LR\s+LOSS\s+CREATED\s+PROMPT$/);
        expect(out.endsWith('\nshowing 4-6 of 7 (--size/--page for more)')).toBe(true);
      },
    ],
    [
      'search --json',
      'search',
      ['rank:8', 'OR', 'rank:16', '--json'],
      false,
      0,
      (out) => {
        expect((JSON.parse(out) as { total: number }).total).toBe(7);
      },
    ],
    ['search with no hit exits 1', 'search', ['tag:nothing-like-this'], false, 1, () => {}],
    [
      'show by id prefix',
      'show',
      [(RUN_IDS.r5 as string).slice(0, 8)],
      true,
      0,
      (out) => {
        expect(out).toMatch(/notes\s+中文 对话 微调 chat/);
        expect(out).toMatch(/created \/ started \/ finished\s+2025-06-30T00:00:00Z \/ - \/ - \(created from mtime\)/);
      },
    ],
    ['show of an unknown run exits 1', 'show', ['00000000-0000-4000-8000-999999999999'], false, 1, () => {}],
    ['show of an ambiguous prefix exits 2', 'show', ['0'], false, 2, () => {}],
    [
      'reproduce prints the config with its header',
      'reproduce',
      [RUN_IDS.r1 as string],
      false,
      0,
      (out) => {
        expect(out).toMatch(/^# lora-catalog: config of run/);
        expect(out).toContain('# output_dir: /out/cyber  output_name: cyber_city_r8');
        expect(out.endsWith('\n\nnetwork_dim: 8\nlearning_rate: 1e-4')).toBe(true);
      },
    ],
    [
      'best without --base: one table per family',
      'best',
      ['--top', '1'],
      true,
      0,
      (out) => {
        expect(out.split('\n').filter((l) => l.startsWith('base model family'))).toEqual([
          'base model family sd15',
          'base model family sdxl',
          'base model family unknown (not comparable with any family)',
          'base model family llama',
        ]);
      },
    ],
    [
      'best as a table',
      'best',
      ['--base', 'sd15', '--rank', '8'],
      true,
      0,
      (out) => {
        expect(
          out
            .split('\n')
            .slice(1)
            .map((l) => l.split(/\s+/).slice(0, 2)),
        ).toEqual(['r4', 'r1', 'r2'].map((n) => [n, (RUN_IDS[n] as string).slice(0, 8)]));
      },
    ],
    [
      'similar as JSON',
      'similar',
      [RUN_IDS.r1 as string, '--size', '3', '--json'],
      false,
      0,
      (out) => {
        expect((JSON.parse(out) as { hits: Array<{ run_id: string }> }).hits[0]?.run_id).toBe(RUN_IDS.r8);
      },
    ],
    [
      'similar with a score and why',
      'similar',
      [RUN_IDS.r1 as string, '--size', '3'],
      false,
      0,
      (out) => {
        expect(out.split('\n')[0]).toMatch(/^NAME\s+RUN\s+SCORE\s+STATUS.*\sWHY$/);
        expect(out.split('\n')[1]).toMatch(
          /^r8\s+08a0c0de\s+\d+\.\d\d\s.*same config; same rank 8; same family sd15; same lr 0\.0001; same data dir; shared prompt terms: 赛博朋克, 建筑, 夜景, cyberpunk, city, …$/,
        );
      },
    ],
    [
      'compare lines up the keys that differ',
      'compare',
      [(RUN_IDS.r1 as string).slice(0, 8), (RUN_IDS.r2 as string).slice(0, 8)],
      false,
      0,
      (out) => {
        const lines = out.split('\n');
        expect(lines[0]).toMatch(/^KEY\s+01a0c0de r1\s+02a0c0de r2$/);
        expect(lines).toContainEqual(expect.stringMatching(/^learning_rate\s+1e-4\s+2e-4$/));
        expect(lines).not.toContainEqual(expect.stringMatching(/^rank\s/));
      },
    ],
  ])('cli: %s', async (_name, cmd, argv, tty, code, check) => {
    const out: string[] = [];
    const err: string[] = [];

    const exit = await runSearchCommands(cmd, argv, {
      client,
      index,
      now: FIXTURE_NOW,
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      json: false,
      tty,
    });

    expect({ exit, err }).toMatchObject({ exit: code });
    check(out.join('\n'));
  });
});

describe('search (integration): canonical optimizer names and vanished runs, on the real runs mapping and doc builder', () => {
  let client: Client;
  let index: string;
  const NOW = new Date('2025-07-01T00:00:00Z');
  const VANISHED_AT = '2025-06-20T08:00:00.000Z';

  beforeAll(async () => {
    client = esClient();
    index = uniqueName('search-state');
    await ensureIndex(client, index, 'runs');
    const records = [
      // As the runs store it: kohya's ss_optimizer is the class path, the HF Trainer's `optim` the enum value.
      makeRecord('r1', { optimizer: 'bitsandbytes.optim.adamw.AdamW8bit', lora_rank: 8, loss_per_epoch: [] }),
      makeRecord('r2', {
        format: 'hf-peft',
        optimizer: 'adamw_torch',
        lora_rank: 8,
        config: { file: 'runs/r2/config.yaml', syntax: 'yaml', text: 'r: 8\n', values: { r: 8 } },
      }),
      makeRecord('r3', {
        optimizer: 'prodigyopt.Prodigy',
        lora_rank: 16,
        loss_source: 'tfevents',
        loss_per_epoch: [0.15, 0.11, 0.09, 0.085].map((mean, i) => ({ epoch: i + 1, mean, last: mean, min: mean, steps: 20 })),
        prompt_example: 'a very long prompt about a neon city at night in the rain with reflections on the wet street, cinematic lighting',
      }),
      makeRecord('r4', { format: 'lora-scripts-yaml', optimizer: 'AdamW8bit', lora_rank: 8 }),
    ];
    const docs = records.map((r) => toRunDoc(r, { now: NOW, firstSeenAt: null }));
    docs[1] = { ...docs[1]!, state: 'vanished', vanished_at: VANISHED_AT, vanish_reason: 'not found on storage' };
    await client.bulk({ refresh: 'wait_for', operations: docs.flatMap((d) => [{ index: { _index: index, _id: d.run_id } }, d]) });
  });

  afterAll(async () => {
    await deleteIndexQuietly(client, index);
  });

  it.each([
    ['optimizer:adamw8bit', false, ['r1', 'r4']],
    ['optimizer:AdamW8bit', false, ['r1', 'r4']],
    ['optimizer:bitsandbytes.optim.adamw.AdamW8bit', false, ['r1', 'r4']],
    ['optimizer:prodigy', false, ['r3']],
    ['optimizer:adamw', false, []],
    ['optimizer:adamw', true, ['r2']],
    ['optimizer:adamw_torch', true, ['r2']],
    ['lora_rank:8', false, ['r1', 'r4']],
  ])('%s (include vanished: %s)', async (query, includeVanished, expected) => {
    const result = await searchRuns(client, index, query, { now: NOW, includeVanished });

    expect(result.hits.map((h) => h.run_id).sort()).toEqual(ids(...expected));
  });

  async function cli(cmd: SearchCommand, argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const exit = await runSearchCommands(cmd, argv, {
      client,
      index,
      now: NOW,
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      json: false,
      tty: false,
    });
    return { exit, out: out.join('\n'), err: err.join('\n') };
  }

  it('search --include-vanished shows a STATE column saying since when a run is vanished', async () => {
    const { exit, out } = await cli('search', ['rank:8', '--include-vanished']);

    expect(exit).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+RUN\s+STATE\s+STATUS/);
    expect(lines.find((l) => l.startsWith('r2 '))).toMatch(/^r2\s+02a0c0de\s+vanished since 2025-06-20\s+completed/);
    expect(lines.find((l) => l.startsWith('r1 '))).toMatch(/^r1\s+01a0c0de\s+active\s+completed/);
  });

  it('search without --include-vanished has no STATE column and leaves the vanished run out', async () => {
    const { out } = await cli('search', ['rank:8']);

    expect(out).not.toMatch(/STATE|\nr2 /);
    expect(out.endsWith('\n2 run(s)')).toBe(true);
  });

  it('show says the run is vanished and since when', async () => {
    const { out } = await cli('show', ['02a0c0de']);

    expect(out.split('\n')[1]).toBe(`${'state'.padEnd(29)} vanished since 2025-06-20`);
  });

  it('reproduce warns that the files are gone, in the saved file and on stderr', async () => {
    const { exit, out, err } = await cli('reproduce', [RUN_IDS.r2 as string]);

    expect(exit).toBe(0);
    expect(out.split('\n')[0]).toBe('# WARNING: this run is vanished since 2025-06-20: its files (outputs, checkpoints) are gone from storage');
    expect(out.endsWith('\n\nr: 8')).toBe(true);
    expect(err).toBe(`lora-catalog reproduce: warning: run ${RUN_IDS.r2} is vanished since 2025-06-20: its files are gone from /mnt/lab/runs/r2`);
  });

  it('reproduce of an active run has no warning', async () => {
    const { out, err } = await cli('reproduce', [RUN_IDS.r1 as string]);

    expect(out).not.toContain('WARNING');
    expect(err).toBe('');
  });

  it.each([
    ['rank=8', "lora-catalog search: hint: 'rank=8' is searched as a word: write rank:8 to filter\n  rank=8\n      ^"],
    ['prodigy and rank:16', "lora-catalog search: hint: 'and' is searched as a word: keywords are upper case (AND)\n  prodigy and rank:16\n          ^"],
  ])('search %s prints a hint with a caret instead of a silent 0 results', async (query, hint) => {
    const { exit, err } = await cli('search', [query]);

    expect(exit).toBe(1);
    expect(err).toBe(hint);
  });

  describe('the CLI on a terminal (a pseudo-terminal from util-linux script) and piped', () => {
    const execFileP = promisify(execFile);
    const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');
    let dir: string;
    let config: string;

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'search-tty-'));
      config = path.join(dir, 'lora-catalog.yaml');
      await writeFile(config, `elasticsearch:\n  url: ${inject('esUrl')}\nindices:\n  runs: ${index}\n`);
    });

    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    const command = (args: string[]) => [process.execPath, MAIN, ...args, '--config', config].map((a) => `'${a}'`).join(' ');

    async function onTerminal(cols: number, args: string[]): Promise<string> {
      // script gives the command a real pty: isTTY and columns come from the terminal, as for a person.
      const { stdout } = await execFileP('script', ['-q', '-e', '-c', `stty cols ${cols} rows 50; ${command(args)}`, '/dev/null'], { timeout: 60_000 });
      return stdout.replace(/\r\n/g, '\n');
    }

    async function piped(args: string[]): Promise<string> {
      const { stdout } = await execFileP(process.execPath, [MAIN, ...args, '--config', config], { timeout: 60_000 });
      return stdout;
    }

    it('fits the search table to the terminal width, and cuts nothing when piped', async () => {
      const tty = await onTerminal(70, ['search', '']);
      const pipe = await piped(['search', '']);

      const ttyLines = tty.trimEnd().split('\n');
      expect(ttyLines[0]).toMatch(/^NAME\s+RUN\s+STATUS/);
      expect(Math.max(...ttyLines.map((l) => [...l].length))).toBeLessThanOrEqual(70);
      expect(pipe).toContain('a very long prompt about a neon city at night in the rain with reflections on the wet street, cinematic lighting');
      expect(pipe.trimEnd().endsWith('3 run(s)')).toBe(true);
      expect(pipe).not.toContain('\u001b[');
    });

    it('draws the loss chart of show in colour on a terminal, plain when piped', async () => {
      const tty = await onTerminal(100, ['show', '03a0c0de']);
      const pipe = await piped(['show', '03a0c0de']);

      // oxlint-disable-next-line no-control-regex
      expect(tty.replace(/\u001b\[[0-9;]*m/g, '')).toMatch(/\n\s+0\.15[┤┼]─+╮\n/);
      expect(tty).toContain('\u001b[34m');
      expect(pipe.trimEnd()).toMatch(/\s+0\.085┤\s+╰─+\n\s+epoch 1\s+epoch 4\n\s+── mean loss per epoch \(tfevents\)$/);
      expect(pipe).not.toContain('\u001b[');
    });
  });
});
