import { describe, expect, it } from 'vitest';
import { describeRun } from '../../../src/cli/show-run.ts';
import type { StoredRun } from '../../../src/search/run.ts';
import { makeRecord } from '../../fixtures/search/runs.ts';

const OPTS = { width: 100, color: false };

function line(text: string, key: string): string {
  return text.split('\n').find((l) => l.startsWith(`${key} `)) ?? '';
}

describe('cli/show-run', () => {
  it('prints a kohya data dir once when data_dir is also its only dataset dir', () => {
    const run = makeRecord('r1', { data_dir: '/data/train/10_city', dataset_dirs: [{ path: '/data/train/10_city', repeats: 10, images: 40 }] });

    const text = describeRun(run, OPTS);

    expect(line(text, 'data')).toBe(`${'data'.padEnd(29)} /data/train/10_city`);
  });

  it('prints each tag once when the run tags are the caption tags (kohya ss_tag_frequency)', () => {
    const run = makeRecord('r1', {
      tags: ['1girl', 'solo'],
      tag_summary: [
        { tag: '1girl', count: 40 },
        { tag: 'solo', count: 31 },
      ],
    });

    expect(line(describeRun(run, OPTS), 'tags')).toBe(`${'tags'.padEnd(29)} 1girl(40), solo(31)`);
  });

  it('says how many artifacts are not listed', () => {
    const artifacts = Array.from({ length: 6 }, (_, i) => ({ path: `out/e${i + 1}.safetensors`, size: 1, kind: 'weights' as const, epoch: i + 1, step: null }));

    const text = line(describeRun(makeRecord('r1', { artifacts }), OPTS), 'artifacts');

    expect(text).toBe(
      `${'artifacts'.padEnd(29)} 6: out/e1.safetensors, out/e2.safetensors, out/e3.safetensors, out/e4.safetensors, out/e5.safetensors, … 1 more`,
    );
  });

  it('names the file of a parse error once and prints the whole message, continuation lines indented', () => {
    // FileError messages start with the file (src/formats/parse-run.ts); smol-toml's own message has a code frame.
    const message = 'runs/x/config.toml: Invalid TOML document: invalid value\n\n2:  b = [1,\n3:  c = "x\n    ^\n';
    const run = makeRecord('r10', { status: 'parse_error', parse_error: { file: 'runs/x/config.toml', message } });

    const text = describeRun(run, OPTS);

    expect(text.match(/runs\/x\/config\.toml/g)).toHaveLength(1);
    const at = text.split('\n').findIndex((l) => l.startsWith('parse_error'));
    expect(text.split('\n').slice(at, at + 4)).toEqual([
      `${'parse_error'.padEnd(29)} runs/x/config.toml: Invalid TOML document: invalid value`,
      `${' '.repeat(30)}2:  b = [1,`,
      `${' '.repeat(30)}3:  c = "x`,
      `${' '.repeat(30)}    ^`,
    ]);
  });

  it.each<[Partial<StoredRun>, string]>([
    [{ state: 'vanished', vanished_at: '2025-06-01T08:00:00Z' }, 'vanished since 2025-06-01'],
    [{ state: 'vanished', vanished_at: '2025-06-01T08:00:00Z', retired_at: '2025-06-03T00:00:00Z' }, 'vanished since 2025-06-01, retired 2025-06-03'],
  ])('shows the state %j', (state, expected) => {
    const run: StoredRun = { ...makeRecord('r1', {}), ...state };

    expect(line(describeRun(run, OPTS), 'state')).toBe(`${'state'.padEnd(29)} ${expected}`);
  });

  it('has no state line for an active run', () => {
    expect(line(describeRun({ ...makeRecord('r1', {}), state: 'active' }, OPTS), 'state')).toBe('');
  });

  it('prints the created_at source next to the dates when the record has one', () => {
    const run: StoredRun = makeRecord('r1', { created_at: '2025-06-01T00:00:00Z', created_at_source: 'tfevents-wall-time' });

    expect(line(describeRun(run, OPTS), 'created / started / finished')).toContain('(created from tfevents-wall-time)');
  });

  it('draws the loss per epoch as a chart with its epoch range, and eval_loss as a line', () => {
    const loss_per_epoch = [0.12, 0.09, 0.07, 0.065].map((mean, i) => ({ epoch: i + 1, mean, last: mean, min: mean, steps: 10 }));
    const run = makeRecord('r1', { loss_per_epoch, loss_final: 0.065, loss_source: 'tfevents', eval_metrics: { eval_loss: 0.08 } });

    const text = describeRun(run, OPTS);

    const chart = text.slice(text.indexOf('\n\n') + 2).split('\n');
    expect(chart[0]).toMatch(/^\s+0\.12[┤┼]─╮$/);
    expect(chart[10]).toMatch(/^\s+0\.065┤\s+╰─+$/);
    expect(chart[11]).toMatch(/^\s+epoch 1\s+epoch 4$/);
    expect(chart[12]).toBe(`${' '.repeat(11)}── mean loss per epoch (tfevents)`);
    expect(line(text, 'eval_loss')).toBe(`${'eval_loss'.padEnd(29)} 0.08`);
  });

  it('draws no chart for a run with fewer than two epochs', () => {
    const run = makeRecord('r1', { loss_per_epoch: [{ epoch: 1, mean: 0.1, last: 0.1, min: 0.1, steps: 5 }] });

    expect(describeRun(run, OPTS)).not.toContain('┤');
  });
});
