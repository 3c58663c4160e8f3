import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/crawl.ts';

const run = promisify(execFile);

/**
 * The claim of formats/registry.ts: a new format is its folder plus one registry line. A copy of src/ gets a made-up
 * fifth format (a tool writing `notes_run.json`) and nothing else but that line; the copy then discovers, parses and
 * validates its run through the real core, searches by its id, and type-checks.
 */
const FIFTH_FORMAT: Record<string, string> = {
  'index.ts': `// notes-trainer: a made-up fifth format, written by test/unit/formats/fifth-format.test.ts.
import { SPECIFICITY } from '../kit/markers.ts';
import type { FormatAdapter } from '../types.ts';

export const notesTrainer: FormatAdapter = {
  id: 'notes-trainer',
  markers: { rules: [{ all: ['notes_run.json'], specificity: SPECIFICITY.toolFiles }] },
  async parse(ctx) {
    const key = ctx.listing.dir === '' ? 'notes_run.json' : \`\${ctx.listing.dir}/notes_run.json\`;
    const notes: { rank?: unknown; done?: unknown } = JSON.parse((await ctx.readText(key)) ?? '{}');
    return {
      identity: { explicit: null, content: null },
      status: notes.done === true ? 'completed' : 'unknown',
      status_evidence: notes.done === true ? 'notes_run.json says done' : 'notes_run.json says nothing',
      lora_rank: typeof notes.rank === 'number' ? notes.rank : null,
    };
  },
};
`,
  'readme.md': '# notes-trainer\n\nA made-up fifth format: a folder holding `notes_run.json`.\n',
};

const REGISTRY_LINE = "export { notesTrainer } from './notes-trainer/index.ts';";

const PROBE = `import { adapters } from './src/formats/index.ts';
import { resolveFormats } from './src/formats/detect.ts';
import { parseRun } from './src/formats/parse-run.ts';
import { RunRecord } from './src/record/schema.ts';
import { parseQuery } from './src/search/parse.ts';
import { createFsDriver } from './src/sources/drivers/fs.ts';
import { discoverRuns } from './src/sync/discover.ts';

const root = new URL('./runs', import.meta.url).pathname;
const driver = createFsDriver({ root });
const runs = [];
for await (const item of discoverRuns(driver, '', adapters)) {
  if (item.kind === 'run') {
    const record = await parseRun(item, { driver, root: { name: 'probe', kind: 'fs', uri: root }, now: new Date('2030-01-01T00:00:00Z') });
    const reason = resolveFormats(item.listing, adapters).reason;
    runs.push({ dir: item.listing.dir, reason, valid: RunRecord.safeParse(record).success, record });
  }
}
console.log(JSON.stringify({ runs, query: parseQuery('format:notes-trainer') }));
`;

describe('a fifth format is one folder plus one registry line', () => {
  let copy = '';

  beforeAll(async () => {
    copy = await mkdtemp(path.join(os.tmpdir(), 'fifth-format-'));
    await cp(path.join(REPO_ROOT, 'src'), path.join(copy, 'src'), { recursive: true });
    await cp(path.join(REPO_ROOT, 'package.json'), path.join(copy, 'package.json'));
    await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
    await mkdir(path.join(copy, 'src/formats/notes-trainer'));
    for (const [name, text] of Object.entries(FIFTH_FORMAT)) {
      await writeFile(path.join(copy, 'src/formats/notes-trainer', name), text);
    }
    const registry = path.join(copy, 'src/formats/registry.ts');
    await writeFile(registry, `${await readFile(registry, 'utf8')}${REGISTRY_LINE}\n`);
    await writeFile(path.join(copy, 'probe.ts'), PROBE);
    const runs = {
      'runs/notes/notes_run.json': JSON.stringify({ rank: 8, done: true }),
      'runs/peft/adapter_config.json': JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 8, base_model_name_or_path: 'gpt2' }),
    };
    for (const [name, text] of Object.entries(runs)) {
      await mkdir(path.dirname(path.join(copy, name)), { recursive: true });
      await writeFile(path.join(copy, name), text);
    }
  });

  afterAll(async () => {
    await rm(copy, { recursive: true, force: true });
  });

  it('changes no file of src/ but the registry, by one added line', async () => {
    const changed: string[] = [];
    for (const file of await listFiles(path.join(REPO_ROOT, 'src'))) {
      const [before, after] = await Promise.all([readFile(path.join(REPO_ROOT, 'src', file), 'utf8'), readFile(path.join(copy, 'src', file), 'utf8')]);
      if (before !== after) {
        changed.push(file);
        expect(after).toBe(`${before}${REGISTRY_LINE}\n`);
      }
    }
    const added = (await listFiles(path.join(copy, 'src'))).filter((file) => !file.startsWith('formats/notes-trainer/'));

    expect(changed).toEqual(['formats/registry.ts']);
    expect(added).toEqual(await listFiles(path.join(REPO_ROOT, 'src')));
  });

  it('discovers, parses and validates its run through the real core, next to the formats already there', async () => {
    const { stdout } = await run(process.execPath, ['probe.ts'], { cwd: copy });
    const out = JSON.parse(stdout) as { runs: { dir: string; reason: string; valid: boolean; record: Record<string, unknown> }[]; query: unknown };

    expect(out.runs.map(({ dir, reason, valid }) => ({ dir, reason, valid }))).toEqual([
      { dir: 'notes', reason: 'notes-trainer (toolFiles) matches', valid: true },
      { dir: 'peft', reason: 'hf-peft (toolFiles) matches', valid: true },
    ]);
    expect(out.runs[0]?.record).toMatchObject({ format: 'notes-trainer', status: 'completed', status_evidence: 'notes_run.json says done', lora_rank: 8 });
    expect(out.runs[1]?.record).toMatchObject({ format: 'hf-peft', lora_rank: 4 });
    expect(out.query).toEqual({ kind: 'format', value: 'notes-trainer' });
  });

  it('type-checks the registry with the new folder (and everything they import)', async () => {
    await writeFile(
      path.join(copy, 'tsconfig.json'),
      JSON.stringify({
        extends: path.join(REPO_ROOT, 'tsconfig.json'),
        compilerOptions: { rootDir: '.' },
        include: ['src/formats/index.ts', 'src/formats/notes-trainer'],
      }),
    );
    const tsc = path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc');

    await expect(run(process.execPath, [tsc, '--noEmit', '-p', copy])).resolves.toMatchObject({ stdout: '' });
  }, 120_000);
});

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}
