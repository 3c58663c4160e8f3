// The format adapters: one folder per training tool's layout (its markers + parse), the shared readers in common/ and kit/,
// and the core that runs them (detect.ts decides between formats, parse-run.ts reads a run). The list is registry.ts.
import * as registry from './registry.ts';
import type { FormatAdapter } from './types.ts';

/** Every registered adapter. Their order decides nothing: a folder several formats match goes to the surest match (detect.ts). */
export const adapters: readonly FormatAdapter[] = Object.values(registry satisfies Record<string, FormatAdapter>);

/** The ids of the registered formats, the one list of them (records only check an id's shape). */
export const FORMAT_IDS: readonly string[] = adapters.map((adapter) => adapter.id);
