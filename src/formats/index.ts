// The format adapters: one folder per training tool's layout (its markers + parse), the shared readers in common/ and kit/,
// and the core that runs them (detect.ts decides between formats, parse-run.ts reads a run). The list is registry.ts.
import * as registry from './registry.ts';
import type { FormatAdapter } from './types.ts';

/**
 * Every registered adapter: the one list of formats (records only check an id's shape). The order decides no detection
 * (a folder several formats match goes to the surest match, detect.ts); it only orders the names of equally sure ones.
 */
export const adapters: readonly FormatAdapter[] = Object.values(registry satisfies Record<string, FormatAdapter>);
