/**
 * Byte order of UTF-8 keys: S3's listing order, and Lucene's keyword sort order.
 * JS string comparison is UTF-16 order, which differs for characters beyond the BMP, so compare bytes.
 */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Sorts after every continuation of a key (U+10FFFF is the largest code point). */
const AFTER_ALL = '\u{10FFFF}';

/**
 * The reconcile order of a run directory: the order in which the crawler completes directories
 * when it reads a byte-ordered listing. A directory completes after its sub-directories, and
 * `a-b/` completes before `a/` because `-` < `/`. Stored on each indexed run so the index can be
 * streamed in the same order and merged with the crawl without holding either in memory.
 */
export function runSortKey(dir: string): string {
  return dir === '' ? AFTER_ALL : `${dir}/${AFTER_ALL}`;
}
