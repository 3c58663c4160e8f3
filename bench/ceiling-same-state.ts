// The ceiling's raw `_bulk` again, on an engine in the state the backfill finds it in: a fresh engine that has just
// run the article's exporter (seed_compare's order). The ceiling of the comparison runs right after the backfill, on
// code the backfill made hot; this one says how much of the engine's CPU in the backfill is the engine warming up.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { engineCpu, PERF_DIR, startBenchEngine } from './article.ts';

const sh = promisify(execFile);
/** raw_bulk.py's request size: 5 MiB bodies, sent one after the other. */
const BODY_BYTES = 5 << 20;

export interface SameStateCeiling {
  exporterS: number;
  bulkS: number;
  esCpuS: number;
  esJitS: number;
  docs: number;
}

/** Copies `runsIndex` of the engine at `sourceUrl` (mapping, analysis, documents) into a second engine after the exporter ran on it. */
export async function sameStateCeiling(opts: { sourceUrl: string; runsIndex: string; tree: string; heap: string }): Promise<SameStateCeiling> {
  const { mapping, analysis, bodies, docs } = await readIndex(opts.sourceUrl, opts.runsIndex, 'ceiling-runs');
  const es = await startBenchEngine('lora-bench-ceiling-es', opts.heap);
  try {
    const exporterStart = performance.now();
    await sh('/usr/bin/python3', [path.join(PERF_DIR, 'seed_exporter_run.py'), opts.tree, '--es', es.url], { maxBuffer: 64 << 20 });
    const exporterS = (performance.now() - exporterStart) / 1000;
    await call(es.url, 'PUT', '/ceiling-runs', JSON.stringify({ settings: { number_of_replicas: 0, analysis }, mappings: mapping }));
    const before = await engineCpu(es.pid as number);
    const started = performance.now();
    for (const body of bodies) {
      const res = (await call(es.url, 'POST', '/_bulk', body, 'application/x-ndjson')) as { errors: boolean };
      if (res.errors) {
        throw new Error('the same-state ceiling: _bulk reported errors');
      }
    }
    await call(es.url, 'POST', '/ceiling-runs/_refresh');
    const bulkS = (performance.now() - started) / 1000;
    const after = await engineCpu(es.pid as number);
    return { exporterS, bulkS, esCpuS: after.cpuS - before.cpuS, esJitS: after.jitS - before.jitS, docs };
  } finally {
    await es.stop();
  }
}

// --- internal ---

async function readIndex(url: string, index: string, target: string) {
  const mappings = (await call(url, 'GET', `/${index}/_mapping`)) as Record<string, { mappings: unknown }>;
  const settings = (await call(url, 'GET', `/${index}/_settings`)) as Record<string, { settings: { index: { analysis?: unknown } } }>;
  const bodies: string[] = [];
  let lines: string[] = [];
  let bytes = 0;
  let docs = 0;
  let after: unknown[] | undefined;
  for (;;) {
    const query = { size: 5000, sort: ['_doc'], query: { match_all: {} }, ...(after ? { search_after: after } : {}) };
    const res = (await call(url, 'POST', `/${index}/_search`, JSON.stringify(query))) as {
      hits: { hits: Array<{ _id: string; _source: unknown; sort: unknown[] }> };
    };
    const hits = res.hits.hits;
    if (hits.length === 0) {
      break;
    }
    for (const hit of hits) {
      const line = `${JSON.stringify({ index: { _index: target, _id: hit._id } })}\n${JSON.stringify(hit._source)}\n`;
      lines.push(line);
      bytes += Buffer.byteLength(line);
      docs += 1;
      if (bytes > BODY_BYTES) {
        bodies.push(lines.join(''));
        lines = [];
        bytes = 0;
      }
    }
    after = hits.at(-1)?.sort;
  }
  if (lines.length > 0) {
    bodies.push(lines.join(''));
  }
  return {
    mapping: Object.values(mappings)[0]?.mappings,
    analysis: Object.values(settings)[0]?.settings.index.analysis ?? {},
    bodies,
    docs,
  };
}

async function call(url: string, method: string, route: string, body?: string, contentType = 'application/json'): Promise<unknown> {
  const res = await fetch(`${url}${route}`, { method, body, headers: { 'content-type': contentType } });
  if (!res.ok) {
    throw new Error(`${method} ${route}: ${res.status} ${(await res.text()).slice(0, 300)}`);
  }
  return res.json();
}

/** The line under the article table: the same-state ceiling, and what its engine CPU leaves of the ≤ 2× bar's budget. */
export function sameStateLine(s: SameStateCeiling, budgetCpuS: number, cores: number, backfillWallS: number, catS: number): string {
  return (
    `Ceiling on an engine in the backfill's state (a second fresh engine, the exporter run on it first: ${s.exporterS.toFixed(1)} s): ` +
    `raw _bulk of the same ${s.docs} docs ${s.bulkS.toFixed(1)} s, engine ${s.esCpuS.toFixed(1)} CPU s (JIT ${s.esJitS.toFixed(1)}); ` +
    `backfill / that ceiling ${(backfillWallS / (catS + s.bulkS)).toFixed(2)}×. The engine's share alone is ${((100 * s.esCpuS) / budgetCpuS).toFixed(0)} % ` +
    `of the ≤ 2× bar's ${budgetCpuS.toFixed(1)} CPU s on ${cores} cores.`
  );
}
