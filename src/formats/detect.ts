import { matchMarkers, SPECIFICITY, type MarkerMatch } from './kit/markers.ts';
import type { DirListing, FormatAdapter } from './types.ts';

/** Which formats a folder goes to, and why. */
export interface Detection {
  /** One format; several when they match equally surely (an `ambiguous-layout` parse error, parse-run.ts); none = not a run. */
  adapters: FormatAdapter[];
  reason: string;
}

/**
 * The only place that decides between formats. Each adapter's declared markers are checked (kit/markers.ts); a folder
 * several formats match goes to the surest match (LLaMA-Factory's own files over the HF Trainer files it also writes, a
 * kohya TOML over any YAML, any YAML config over weights known only by their names). When the surest format says the
 * folder is its own but not a run (a config saved before training), it is no run at all. Adapters never name each other.
 */
export function resolveFormats(listing: DirListing, adapters: readonly FormatAdapter[]): Detection {
  const { matched, best } = matchAll(listing, adapters);
  if (matched.length === 0) {
    return { adapters: [], reason: 'no format matches' };
  }
  const surest = matched.filter((m) => m.specificity === best);
  const chosen = surest.filter((m) => m.run);
  const outranked = matched.filter((m) => m.specificity < best);
  const over = outranked.length === 0 ? '' : ` over ${describe(outranked)}`;
  if (chosen.length === 0) {
    return { adapters: [], reason: `not a run: ${describe(surest)} claims it${over} without evidence of training` };
  }
  const verdict = chosen.length > 1 ? `${describe(chosen)} match equally` : `${describe(chosen)} matches`;
  return { adapters: chosen.map((m) => m.adapter), reason: `${verdict}${over}` };
}

/** The adapters a folder goes to (as `resolveFormats` decides, without putting the reason into words: a crawl asks this of every folder). */
export function detectAdapters(listing: DirListing, adapters: readonly FormatAdapter[]): FormatAdapter[] {
  const { matched, best } = matchAll(listing, adapters);
  const chosen: FormatAdapter[] = [];
  for (const m of matched) {
    if (m.specificity === best && m.run) {
      chosen.push(m.adapter);
    }
  }
  return chosen;
}

// --- internal ---

type Matched = MarkerMatch & { adapter: FormatAdapter };

function matchAll(listing: DirListing, adapters: readonly FormatAdapter[]): { matched: Matched[]; best: number } {
  const matched: Matched[] = [];
  let best = 0;
  for (const adapter of adapters) {
    const match = matchMarkers(adapter.markers, listing);
    if (match !== null) {
      matched.push({ adapter, ...match });
      best = Math.max(best, match.specificity);
    }
  }
  return { matched, best };
}

const SPECIFICITY_NAMES = new Map<number, string>(Object.entries(SPECIFICITY).map(([name, value]) => [value, name]));

function describe(matches: readonly Matched[]): string {
  return matches.map((m) => `${m.adapter.id} (${SPECIFICITY_NAMES.get(m.specificity) ?? m.specificity})`).join(', ');
}
