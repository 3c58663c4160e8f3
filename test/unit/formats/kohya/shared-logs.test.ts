import { describe, expect, it } from 'vitest';

import { adapters } from '../../../../src/formats/index.ts';
import { parseRun } from '../../../../src/formats/parse-run.ts';
import type { RunRecord } from '../../../../src/record/schema.ts';
import type { SourceDriver } from '../../../../src/sources/types.ts';
import { discoverRuns } from '../../../../src/sync/discover.ts';
import { memoryDriver } from '../../../helpers/memory-driver.ts';
import { STARTED_AT, kohyaMetadata, lossEvents, safetensorsBytes } from '../../../fixtures/make-kohya.ts';

const LATER = new Date('2100-01-01T00:00:00Z');
const TF_NAME = `events.out.tfevents.${Math.floor(STARTED_AT) + 1}.trainbox.4242.0`;

/** A team folder the way Akegarasu's scripts fill it: one folder per run under out/, every run's logs in out/logs. */
function teamFolder(runs: number, opts: { logs: boolean } = { logs: true }): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < runs; i++) {
    const name = `style${i}`;
    files[`team/out/${name}/${name}.safetensors`] = safetensorsBytes(kohyaMetadata({ ss_output_name: name, ss_session_id: String(1000 + i) }));
    if (opts.logs) {
      files[`team/out/logs/${name}20240301101500/network_train/${TF_NAME}`] = lossEvents('loss/epoch', 1 + (i % 3));
    }
  }
  return files;
}

async function parseAll(driver: SourceDriver): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  for await (const item of discoverRuns(driver, 'team', adapters)) {
    if (item.kind === 'run') {
      records.push(await parseRun(item, { driver, root: { name: 'm', kind: 'fs', uri: '/m' }, now: LATER }));
    }
  }
  return records;
}

/** `driver`, counting the listings asked of it per prefix. */
function counting(driver: SourceDriver): { driver: SourceDriver; lists: Map<string, number> } {
  const lists = new Map<string, number>();
  return {
    lists,
    driver: {
      ...driver,
      list(prefix) {
        lists.set(prefix, (lists.get(prefix) ?? 0) + 1);
        return driver.list(prefix);
      },
    },
  };
}

describe('formats/kohya: folders many runs look into', () => {
  it('lists a shared ../logs once per driver, not once per run, and still links every run to its own log', async () => {
    const { driver, lists } = counting(memoryDriver(teamFolder(12)));
    const records = await parseAll(driver);

    expect(records).toHaveLength(12);
    for (const record of records) {
      const i = Number(record.source.path.replace('team/out/style', ''));
      expect(record).toMatchObject({ loss_source: 'tfevents', output_name: `style${i}` });
      expect(record.loss_per_epoch).toHaveLength(1 + (i % 3));
    }
    // The crawl lists `team` once; for all 12 runs together, the parse lists their parent (where a config one folder up would be) and the shared logs once.
    expect(Object.fromEntries(lists)).toEqual({ team: 1, 'team/out': 1, 'team/out/logs': 1 });
  });

  it('lists each place a run without logs looks (its parent and six guessed log folders) once for all the runs', async () => {
    const { driver, lists } = counting(memoryDriver(teamFolder(12, { logs: false })));
    const records = await parseAll(driver);

    expect(records).toHaveLength(12);
    expect(records.map((r) => r.loss_source)).toEqual(Array.from({ length: 12 }, () => 'none'));
    expect(Object.fromEntries(lists)).toEqual({
      team: 1,
      'team/out': 1,
      'team/out/logs': 1,
      'team/out/log': 1,
      'team/out/_logs': 1,
      'team/logs': 1,
      'team/log': 1,
      'team/_logs': 1,
    });
  });
});
