import { describe, expect, it } from 'vitest';
import { hitColumns } from '../../../src/cli/hit-columns.ts';
import { baseLabel } from '../../../src/cli/run-format.ts';
import { renderTable } from '../../../src/cli/text-table.ts';
import type { RunHit } from '../../../src/search/run.ts';

function hit(fields: Partial<RunHit>): RunHit {
  return {
    run_id: '01a0c0de-0000-4000-8000-000000000001',
    name: '2025-06-01-neon-city-r8',
    score: null,
    format: 'kohya',
    status: 'completed',
    base_model: '/models/sdxl/animagine-xl-3.1.safetensors',
    base_model_family: 'sdxl',
    lora_rank: 8,
    learning_rate: 1e-4,
    loss_final: 0.0612,
    created_at: '2025-06-01T00:00:00Z',
    prompt_example: 'neon city at night',
    eval_loss: null,
    source_uri: '/mnt/runs/2025-06-01-neon-city-r8',
    state: 'active',
    vanished_at: null,
    retired_at: null,
    ...fields,
  };
}

describe('cli/hit-columns', () => {
  it.each([
    ['/models/sdxl/animagine-xl-3.1.safetensors', 'sdxl', 'sdxl · animagine-xl-3.1'],
    ['stabilityai/stable-diffusion-xl-base-1.0', 'sdxl', 'sdxl · stable-diffusion-xl-base-1.0'],
    ['Qwen/Qwen2-7B-Instruct', 'qwen', 'qwen · Qwen2-7B-Instruct'],
    ['C:\\models\\v1-5-pruned.ckpt', 'sd15', 'sd15 · v1-5-pruned'],
    ['sdxl', 'sdxl', 'sdxl'],
    [null, 'flux', 'flux'],
    ['/models/mystery.safetensors', null, 'mystery'],
  ])('shows the base %s [%s] as %s', (base, family, label) => {
    expect(baseLabel(base, family)).toBe(label);
  });

  it('puts the run name first, the base as family + short name, and fits a 140-column terminal uncut', () => {
    const lines = renderTable(hitColumns([hit({})], { state: false }), [hit({})], { columns: 140 }).split('\n');

    expect(lines[0]).toMatch(/^NAME\s+RUN\s+STATUS\s+FORMAT\s+BASE\s+RANK\s+LR\s+LOSS\s+CREATED\s+PROMPT$/);
    expect(lines[1]).toMatch(
      /^2025-06-01-neon-city-r8\s+01a0c0de\s+completed\s+kohya\s+sdxl · animagine-xl-3\.1\s+8\s+1e-4\s+0\.0612\s+2025-06-01\s+neon city at night$/,
    );
    expect(lines.every((l) => l.length <= 140)).toBe(true);
  });

  it('adds EVAL_LOSS only when a hit has one, and STATE only when asked', () => {
    const hits = [hit({ eval_loss: 0.0734 }), hit({ state: 'vanished', vanished_at: '2025-06-20T10:00:00Z' })];

    const lines = renderTable(hitColumns(hits, { state: true }), hits, { columns: null }).split('\n');

    expect(lines[0]).toMatch(/^NAME\s+RUN\s+STATE\s+STATUS.*LOSS\s+EVAL_LOSS\s+CREATED/);
    expect(lines[1]).toMatch(/01a0c0de\s+active\s+completed.*0\.0612\s+0\.0734/);
    expect(lines[2]).toMatch(/01a0c0de\s+vanished since 2025-06-20\s+completed/);
    expect(renderTable(hitColumns([hit({})], { state: false }), [hit({})], { columns: null })).not.toMatch(/EVAL_LOSS|STATE/);
  });

  it('keeps name, base and numbers whole on a 100-column terminal: the prompt shrinks, CREATED and FORMAT go, then the prompt', () => {
    const lines = renderTable(hitColumns([hit({})], { state: false }), [hit({})], { columns: 100 }).split('\n');

    expect(lines.every((l) => l.length <= 100)).toBe(true);
    expect(lines[0]).not.toMatch(/FORMAT|CREATED|PROMPT/);
    expect(lines[1]).toMatch(/^2025-06-01-neon-city-r8\s+01a0c0de\s+completed\s+sdxl · animagine-xl-3\.1\s+8\s+1e-4\s+0\.0612$/);
  });

  it('fits 80 columns by shrinking base and name last, numbers still whole', () => {
    const lines = renderTable(hitColumns([hit({})], { state: false }), [hit({})], { columns: 80 }).split('\n');

    expect(lines.every((l) => l.length <= 80)).toBe(true);
    expect(lines[1]).toMatch(/\s8\s+1e-4\s+0\.0612$/);
  });
});
