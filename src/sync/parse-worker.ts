// Worker side of the parse pool: reads runs with the same adapters and drivers as the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import type { SourceConfig } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import type { DiscoveredRun } from './discover.ts';
import { adapters } from '../formats/index.ts';
import { parseRun } from '../formats/parse-run.ts';
import { createDriverCache, rootInfo } from '../sources/index.ts';
import type { ParseRequest, ParseResponse } from './parse-pool.ts';

const sources = (workerData as { sources: SourceConfig[] }).sources;
const drivers = createDriverCache(sources);
const byId = new Map(adapters.map((a) => [a.id, a]));

parentPort?.on('message', (request: ParseRequest) => {
  void handle(request).then((response) => parentPort?.postMessage(response));
});

async function handle(request: ParseRequest): Promise<ParseResponse> {
  try {
    const driver = drivers.get(request.source);
    const source = sources.find((s) => s.name === request.source);
    if (!driver || !source) {
      throw new Error(`unknown source ${request.source}`);
    }
    const run: DiscoveredRun = { kind: 'run', listing: request.listing, adapters: request.adapters.map((id) => byId.get(id)).filter((a) => a !== undefined) };
    const record = await parseRun(run, { driver, root: rootInfo(source), now: new Date(request.now) });
    return { id: request.id, record };
  } catch (err) {
    return { id: request.id, error: errorMessage(err) };
  }
}
