import path from 'node:path';
import { adapters } from '../../src/formats/index.ts';
import { discoverRuns } from '../../src/sync/discover.ts';
import { parseRun } from '../../src/formats/parse-run.ts';
import type { FormatAdapter } from '../../src/formats/types.ts';
import type { RunRecord } from '../../src/record/schema.ts';
import { createFsDriver } from '../../src/sources/drivers/fs.ts';

/** Repository root, for fixture paths. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** Far after any fixture mtime: nothing counts as running unless a test says so. */
export const LATER = new Date('2100-01-01T00:00:00Z');

/** Discovers and parses every run under `root` with the real fs driver, as the sync does. */
export async function crawl(root: string, opts: { now?: Date; with?: readonly FormatAdapter[] } = {}): Promise<RunRecord[]> {
  const driver = createFsDriver({ root });
  const records: RunRecord[] = [];
  for await (const item of discoverRuns(driver, '', opts.with ?? adapters)) {
    if (item.kind === 'run') {
      records.push(await parseRun(item, { driver, root: { name: 'test', kind: 'fs', uri: root }, now: opts.now ?? LATER }));
    }
  }
  return records;
}
