/**
 * `.ts` when running from source (Node strips the types), `.js` from the built package: worker
 * threads are started from a module path, which the TypeScript compiler does not rewrite.
 */
export const MODULE_EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
