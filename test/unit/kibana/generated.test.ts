import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderBundle } from '../../../kibana/bundle.ts';
import { GENERATED_FILE } from '../../../kibana/emit.ts';

describe('kibana/generated/lora-catalog.ndjson', () => {
  it('matches a fresh render (run `npm run gen:dashboards` and commit when this fails)', async () => {
    const committed = await readFile(GENERATED_FILE, 'utf8');

    const fresh = renderBundle();

    expect(committed).toBe(fresh);
  });

  it('renders identically twice (no clock, no randomness)', () => {
    expect(renderBundle()).toBe(renderBundle());
  });

  it('writes keys in sorted order on every line', () => {
    for (const line of renderBundle().trimEnd().split('\n')) {
      const object = JSON.parse(line) as Record<string, unknown>;
      expect(Object.keys(object)).toEqual(Object.keys(object).sort());
    }
  });

  it('follows the index overrides (config `indices`)', () => {
    const ndjson = renderBundle({ indices: { runs: 'team-runs', rollups: 'team-rollups', syncRuns: 'team-syncs' } });

    const objects = ndjson
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; attributes: Record<string, unknown> });
    const titles = objects.filter((o) => o.type === 'index-pattern').map((o) => o.attributes.title);
    const specs = objects
      .filter((o) => o.type === 'visualization')
      .map((o) => JSON.parse((JSON.parse(String(o.attributes.visState)) as { params: { spec: string } }).params.spec) as { data: { url: { index: string } } });
    expect(titles).toEqual(['team-runs', 'team-rollups', 'team-rollups', 'team-syncs']);
    expect(specs.map((s) => s.data.url.index)).toEqual(['team-rollups']);
  });
});
