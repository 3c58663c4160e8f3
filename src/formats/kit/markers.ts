import picomatch from 'picomatch';
import type { DirListing } from '../../sources/types.ts';

/**
 * Declared marker globs checked against a listing's names (relative to the folder, `/`-separated), compiled
 * once: true when any name matches any glob. Adapters declare what their own tool writes and nothing about
 * other formats; when two adapters match one folder, the core decides (formats/detect.ts).
 */
export function markerMatcher(globs: readonly string[]): (listing: DirListing) => boolean {
  const isMatch = picomatch([...globs], { dot: true });
  return (listing) => listing.names.some((name) => isMatch(name));
}
