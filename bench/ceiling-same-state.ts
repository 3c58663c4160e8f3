// The ceiling's raw `_bulk` again, on an engine in the state the backfill finds it in: a fresh engine that has just
// run the article's exporter (seed_compare's order). The ceiling of the comparison runs right after the backfill, on
// code the backfill made hot; this one says how much of the engine's CPU in the backfill is the engine warming up.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@elastic/elasticsearch';
import { budgets, engineCpu, PERF_DIR, startBenchEngine, type ArticleResult } from './article.ts';
import { spoolBulkBodies } from './bulk-bodies.ts';

const sh = promisify(execFile);

export interface SameStateCeiling {
  exporterS: number;
  bulkS: number;
  esCpuS: number;
  esJitS: number;
  docs: number;
}

/** Copies `runsIndex` of the engine at `sourceUrl` (mapping, analysis, documents) into a second engine after the exporter ran on it. */
export async function sameStateCeiling(opts: { sourceUrl: string; runsIndex: string; tree: string; heap: string }): Promise<SameStateCeiling> {
  const source = new Client({ node: opts.sourceUrl, requestTimeout: 300_000 });
  const mapping = Object.values(await source.indices.getMapping({ index: opts.runsIndex }))[0]?.mappings;
  const analysis = Object.values(await source.indices.getSettings({ index: opts.runsIndex }))[0]?.settings?.index?.analysis ?? {};
  const bodies = await spoolBulkBodies(source, opts.runsIndex, 'ceiling-runs').finally(() => source.close());
  const es = await startBenchEngine('lora-bench-ceiling-es', opts.heap);
  try {
    const exporterStart = performance.now();
    await sh('/usr/bin/python3', [path.join(PERF_DIR, 'seed_exporter_run.py'), opts.tree, '--es', es.url], { maxBuffer: 64 << 20 });
    const exporterS = (performance.now() - exporterStart) / 1000;
    await call(es.url, 'PUT', '/ceiling-runs', JSON.stringify({ settings: { number_of_replicas: 0, analysis }, mappings: mapping }));
    const before = await engineCpu(es.pid as number);
    const started = performance.now();
    // One request after the other, as raw_bulk.py sends them.
    for (let i = 0; i < bodies.count; i++) {
      const res = (await call(es.url, 'POST', '/_bulk', await bodies.read(i), 'application/x-ndjson')) as { errors: boolean };
      if (res.errors) {
        throw new Error('the same-state ceiling: _bulk reported errors');
      }
    }
    await call(es.url, 'POST', '/ceiling-runs/_refresh');
    const bulkS = (performance.now() - started) / 1000;
    const after = await engineCpu(es.pid as number);
    return { exporterS, bulkS, esCpuS: after.cpuS - before.cpuS, esJitS: after.jitS - before.jitS, docs: bodies.docs };
  } finally {
    await bodies.close();
    await es.stop();
  }
}

// --- internal ---

async function call(url: string, method: string, route: string, body?: string | Buffer, contentType = 'application/json'): Promise<unknown> {
  const res = await fetch(`${url}${route}`, { method, body, headers: { 'content-type': contentType } });
  if (!res.ok) {
    throw new Error(`${method} ${route}: ${res.status} ${(await res.text()).slice(0, 300)}`);
  }
  return res.json();
}

/** The line under the article table: the same-state ceiling, and what its engine CPU leaves of the ≤ 2× bar's budget. */
export function sameStateLine(s: SameStateCeiling, r: ArticleResult): string {
  const { cores } = r;
  const budgetCpuS = budgets(r).ceiling;
  const backfillWallS = r.backfill.wallS;
  const catS = r.ceiling.catS;
  return (
    `Ceiling on an engine in the backfill's state (a second fresh engine, the exporter run on it first: ${s.exporterS.toFixed(1)} s): ` +
    `raw _bulk of the same ${s.docs} docs ${s.bulkS.toFixed(1)} s, engine ${s.esCpuS.toFixed(1)} CPU s (JIT ${s.esJitS.toFixed(1)}); ` +
    `backfill / that ceiling ${(backfillWallS / (catS + s.bulkS)).toFixed(2)}×. The engine's share alone is ${((100 * s.esCpuS) / budgetCpuS).toFixed(0)} % ` +
    `of the ≤ 2× bar's ${budgetCpuS.toFixed(1)} CPU s on ${cores} cores.`
  );
}
