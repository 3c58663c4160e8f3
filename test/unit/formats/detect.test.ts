import { describe, expect, it } from 'vitest';
import { resolveFormats } from '../../../src/formats/detect.ts';
import { adapters } from '../../../src/formats/index.ts';
import { matchMarkers, SPECIFICITY, type Markers } from '../../../src/formats/kit/markers.ts';
import { parseRun } from '../../../src/formats/parse-run.ts';
import { FormatId } from '../../../src/record/schema.ts';
import type { FormatAdapter } from '../../../src/formats/types.ts';
import { toListing } from '../../../src/sources/types.ts';
import { memoryDriver } from '../../helpers/memory-driver.ts';

function listing(names: string[], dir = 'run') {
  return toListing(
    dir,
    names.map((name) => ({ key: `${dir}/${name}`, size: 1000, mtime: 0 })),
  );
}

describe('formats/detect: the core decides between formats', () => {
  it.each([
    [
      'LLaMA-Factory writes the HF Trainer files too',
      ['training_args.yaml', 'trainer_state.json', 'adapter_config.json'],
      ['llama-factory'],
      'llama-factory (toolOverLibrary) matches over hf-peft (toolFiles), lora-scripts-yaml (anyConfig)',
    ],
    [
      'a kohya TOML beats any YAML config',
      ['train.toml', 'config.yaml', 'train.log', 'cat-000001.safetensors'],
      ['kohya'],
      'kohya (toolConfig) matches over lora-scripts-yaml (anyConfig)',
    ],
    [
      'any YAML config beats weights known only by their names',
      ['config.yaml', 'logs/train.log', 'last.safetensors'],
      ['lora-scripts-yaml'],
      'lora-scripts-yaml (anyConfig) matches over kohya (outputNames)',
    ],
    [
      'HF Trainer files beat a YAML config',
      ['checkpoint-10/trainer_state.json', 'config.yaml', 'train.log'],
      ['hf-peft'],
      'hf-peft (toolFiles) matches over lora-scripts-yaml (anyConfig)',
    ],
    [
      "LLaMA-Factory's saved YAMLs before training: its folder, no run, and no YAML run either",
      ['training_args.yaml', 'llamaboard_config.yaml', 'webui_subprocess.log'],
      [],
      'not a run: llama-factory (toolOverLibrary) claims it over lora-scripts-yaml (anyConfig) without evidence of training',
    ],
    ['one format alone', ['adapter_config.json'], ['hf-peft'], 'hf-peft (toolFiles) matches'],
    ['nothing', ['README.md', 'notes.txt'], [], 'no format matches'],
  ])('%s', (_label, names, want, reason) => {
    const found = resolveFormats(listing(names), adapters);

    expect({ ids: found.adapters.map((a) => a.id), reason: found.reason }).toEqual({ ids: want, reason });
  });

  it('keeps equally sure matches as an ambiguous layout, which parses to an ambiguous-layout parse error', async () => {
    const twin = (id: string): FormatAdapter => ({
      id,
      markers: { rules: [{ all: ['notes.md'], specificity: SPECIFICITY.toolFiles }] },
      parse: () => Promise.reject(new Error('an ambiguous folder is never parsed')),
    });
    const found = resolveFormats(listing(['notes.md']), [twin('tool-a'), twin('tool-b')]);
    const record = await parseRun(
      { kind: 'run', listing: listing(['notes.md']), adapters: found.adapters },
      { driver: memoryDriver({ 'run/notes.md': 'x' }), root: { name: 't', kind: 'fs', uri: '/t' }, now: new Date(0) },
    );

    expect(found.reason).toBe('tool-a (toolFiles), tool-b (toolFiles) match equally');
    expect(record).toMatchObject({ format: 'tool-a', status: 'parse_error', parse_error: { message: 'ambiguous-layout: matches tool-a, tool-b' } });
  });
});

describe('formats/index: the registry', () => {
  it('registers each format once, under an id records accept', () => {
    const ids = adapters.map((a) => a.id);

    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => !FormatId.safeParse(id).success)).toEqual([]);
    expect(FormatId.safeParse('Not An Id').success).toBe(false);
  });
});

describe('formats/kit/markers: one helper checks every declaration', () => {
  const markers: Markers = {
    rules: [
      { all: ['*.cfg', ['*.log', 'out/**']], specificity: SPECIFICITY.toolConfig },
      { all: ['*.cfg'], specificity: SPECIFICITY.toolConfig, run: false },
      { all: [], where: (l) => l.dir.endsWith('-run'), specificity: SPECIFICITY.outputNames },
    ],
    absent: ['**/model_index.json'],
  };

  it.each([
    [['a.cfg', 'train.log'], 'run', { specificity: SPECIFICITY.toolConfig, run: true }],
    [['a.cfg', 'out/w.bin'], 'run', { specificity: SPECIFICITY.toolConfig, run: true }],
    [['a.cfg'], 'run', { specificity: SPECIFICITY.toolConfig, run: false }],
    [['a.cfg'], 'x-run', { specificity: SPECIFICITY.toolConfig, run: true }],
    [['train.log'], 'x-run', { specificity: SPECIFICITY.outputNames, run: true }],
    [['a.cfg', 'train.log', 'm/model_index.json'], 'run', { specificity: SPECIFICITY.toolConfig, run: false }],
    [['train.log', 'sub/a.cfg'], 'run', null],
  ])('%j in %s matches as %j', (names, dir, want) => {
    expect(matchMarkers(markers, listing(names, dir))).toEqual(want);
  });
});
