// Runs one sync in its own process so its peak RSS is the sync's alone; prints a JSON line.
import { Client } from '@elastic/elasticsearch';
import { tuneThreadPool } from '../src/config/env.ts';
import { parseConfig } from '../src/config/load.ts';
import { silentLogger } from '../src/log.ts';
import { runSync } from '../src/sync/run.ts';

tuneThreadPool();
const [mode, esUrl, configJson, naiveLimit] = process.argv.slice(2) as [string, string, string, string | undefined];
const config = parseConfig(JSON.parse(configJson));
const client = new Client({ node: esUrl, requestTimeout: 120_000 });
const ctx = { config, client, log: silentLogger, now: () => new Date(), signal: new AbortController().signal };
const started = performance.now();
let result: Record<string, unknown>;
if (mode === 'naive') {
  result = await naive();
} else {
  const report = await runSync(ctx, { mode: 'full', backfill: mode === 'backfill' });
  result = { counts: report.counts, status: report.status, errors: report.errors.slice(0, 3), durations: report.durations_ms };
}
const wallMs = performance.now() - started;
process.stdout.write(`${JSON.stringify({ ...result, wallMs, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
await client.close();

/** The naive exporter: crawl and parse the same way, then one index request per run (refresh default). */
async function naive(): Promise<Record<string, unknown>> {
  const { createDriver, rootInfo } = await import('../src/sources/index.ts');
  const { discoverRuns } = await import('../src/sync/discover.ts');
  const { adapters } = await import('../src/formats/index.ts');
  const { parseRun } = await import('../src/formats/parse-run.ts');
  const { toRunDoc } = await import('../src/sync/doc.ts');
  const limit = naiveLimit === undefined ? Infinity : Number(naiveLimit);
  const source = config.sources[0];
  if (!source) {
    throw new Error('no source');
  }
  const driver = createDriver(source);
  const root = rootInfo(source);
  let n = 0;
  for await (const item of discoverRuns(driver, '', adapters)) {
    if (item.kind === 'warning') {
      continue;
    }
    const record = await parseRun(item, { driver, root, now: new Date() });
    await client.index({ index: config.indices.runs, id: record.run_id, document: toRunDoc(record, { now: new Date(), firstSeenAt: null }) });
    n += 1;
    if (n >= limit) {
      break;
    }
  }
  return { counts: { found: n, written: n } };
}
