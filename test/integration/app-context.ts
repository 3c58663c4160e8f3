import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import type { AppContext } from '../../src/context.ts';
import { silentLogger } from '../../src/log.ts';
import { deleteIndexQuietly, esClient, uniqueName } from './helpers.ts';

export interface TestApp {
  ctx: AppContext;
  config: Config;
  /** A temp copy of the example runs (or an empty dir), writable by the test. */
  root: string;
  /** Moves the injected clock. */
  setNow(date: Date): void;
  cleanup(): Promise<void>;
}

export const EXAMPLES = path.resolve(import.meta.dirname, '..', '..', 'examples', 'runs');

/** A config with throwaway index names and one fs source on a temp copy of `from` (default: the example runs). */
export async function createTestApp(opts: { from?: string | null; raw?: Record<string, unknown>; esUrl?: string } = {}): Promise<TestApp> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'lora-sync-'));
  if (opts.from !== null) {
    await cp(opts.from ?? EXAMPLES, root, { recursive: true });
  }
  const base = uniqueName('t');
  const config = parseConfig({
    sources: [{ name: 'local', kind: 'fs', path: root }],
    indices: { runs: `${base}-runs`, rollups: `${base}-rollups`, sync_runs: `${base}-syncs`, leases: `${base}-leases` },
    ...opts.raw,
  });
  const client = esClient(opts.esUrl);
  let now = new Date();
  const ctx: AppContext = { config, client, log: silentLogger, now: () => now, signal: new AbortController().signal };
  return {
    ctx,
    config,
    root,
    setNow(date) {
      now = date;
    },
    async cleanup() {
      await deleteIndexQuietly(client, `${base}-*`);
      for (const alias of Object.values(config.indices)) {
        await client.indices.deleteIndexTemplate({ name: `${alias}-template` }, { ignore: [404] });
      }
      await client.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
