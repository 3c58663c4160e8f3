import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { reproduceRun } from '../../../src/search/reproduce.ts';
import { makeRecord } from '../../fixtures/search/runs.ts';

const VALUES = { network_dim: 8, learning_rate: 0.0001, train: { epochs: 10, resolution: '512,512' }, wandb_key: '[REDACTED]' };

describe('search/reproduce', () => {
  it('keeps the original text and puts the outputs in a # header', () => {
    const record = makeRecord('r1', {
      format: 'lora-scripts-yaml',
      output_dir: '/out/cyber',
      output_name: 'cyber_r8',
      best_checkpoint: 'output/cyber_r8-000008.safetensors',
      best_epoch: 8,
      loss_min: 0.031,
      artifacts: [
        { path: 'output/cyber_r8.safetensors', size: 1024, kind: 'weights', epoch: null, step: null },
        { path: 'logs/train.log', size: 10, kind: 'log', epoch: null, step: null },
      ],
      config: { file: 'runs/r1/config.yaml', syntax: 'yaml', text: '# mine\nnetwork_dim: 8  # keep\n', values: { network_dim: 8 } },
    });

    const out = reproduceRun(record);

    expect(out.syntax).toBe('yaml');
    expect(out.fileName).toBe('config.yaml');
    expect(out.body).toBe('# mine\nnetwork_dim: 8  # keep\n');
    expect(out.text.endsWith('\n\n# mine\nnetwork_dim: 8  # keep\n')).toBe(true);
    expect(out.header).toEqual([
      `lora-catalog: config of run ${record.run_id} (lora-scripts-yaml, completed)`,
      'source: /mnt/lab/runs/r1 (config file runs/r1/config.yaml)',
      'output_dir: /out/cyber  output_name: cyber_r8',
      'best checkpoint: output/cyber_r8-000008.safetensors (epoch 8), loss_min 0.031',
      'artifact: output/cyber_r8.safetensors (weights, 1024 bytes)',
    ]);
    expect(parseYaml(out.text)).toEqual({ network_dim: 8 });
  });

  it.each([
    ['toml' as const, (t: string) => parseToml(t)],
    ['yaml' as const, (t: string) => parseYaml(t) as unknown],
    ['json' as const, (t: string) => JSON.parse(t) as unknown],
  ])('re-serialises the values as %s when the text was not stored', (syntax, parse) => {
    const record = makeRecord('r2', { config: { file: `c.${syntax}`, syntax, text: null, values: VALUES } });

    const out = reproduceRun(record);

    expect(parse(out.text)).toEqual(VALUES);
    expect(out.redacted).toBe(true);
    expect(out.header).toContain('re-serialised from the parsed values: the original text was not stored');
    expect(out.header.at(-1)).toMatch(/REDACTED/);
  });

  it('leaves the header out of JSON text (no comments in JSON) but returns it', () => {
    const out = reproduceRun(makeRecord('r3', { config: { file: 'adapter_config.json', syntax: 'json', text: '{"r": 8}', values: { r: 8 } } }));

    expect(out.text).toBe('{"r": 8}\n');
    expect(out.header[0]).toMatch(/^lora-catalog: config of run/);
    expect(out.fileName).toBe('adapter_config.json');
  });

  it('drops nulls for TOML, which has none', () => {
    const out = reproduceRun(makeRecord('r4', { config: { file: null, syntax: 'toml', text: null, values: { a: 1, b: null, c: { d: null, e: 2 } } } }));

    expect(parseToml(out.body)).toEqual({ a: 1, c: { e: 2 } });
    expect(out.fileName).toBe('config.toml');
  });

  it('writes YAML for a run without a config syntax', () => {
    const out = reproduceRun(makeRecord('r5', { config: { file: null, syntax: 'none', text: null, values: { lr: 0.001 } } }));

    expect(out.syntax).toBe('yaml');
    expect(parseYaml(out.body)).toEqual({ lr: 0.001 });
  });
});
