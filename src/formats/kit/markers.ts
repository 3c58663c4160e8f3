import picomatch from 'picomatch';
import type { DirListing } from '../../sources/types.ts';

/**
 * How surely a matched rule says which tool wrote a folder, weakest first. Each format rates its own rules on this one
 * scale; when several formats match a folder, the core (formats/detect.ts) gives it to the surest match.
 */
export const SPECIFICITY = {
  /** Outputs known only by how they are named (weights, log folders): other tools can write such names too. */
  outputNames: 1,
  /** Any YAML config next to run evidence: a tolerant catch-all layout, not one tool's own file. */
  anyConfig: 2,
  /** The tool's own config file (a TOML, a GUI dump) next to its outputs. */
  toolConfig: 3,
  /** Files one tool writes under its own exact names. */
  toolFiles: 4,
  /** A tool's own files written on top of the files of a library it runs: more specific than the library's alone. */
  toolOverLibrary: 5,
} as const;

export type Specificity = (typeof SPECIFICITY)[keyof typeof SPECIFICITY];

/** One way a folder shows it is a run of the format. Globs are picomatch, against names relative to the folder (`/`-separated). */
export interface MarkerRule {
  /** Every entry must match some name: a glob, or a list of globs any of which will do. */
  all: readonly (string | readonly string[])[];
  /** What globs cannot say (a size, a name the format parses, the folder's own name); pure over the listing. */
  where?: (listing: DirListing) => boolean;
  specificity: Specificity;
  /**
   * `false`: the files show the folder is this tool's, not that it is a run (a config saved before training started).
   * It claims the folder at its specificity all the same, so a less specific format cannot read it as a run of its own.
   */
  run?: false;
}

/** How a folder matches a format: at its surest matching rule; a run when at least one matching rule says so. */
export interface MarkerMatch {
  specificity: Specificity;
  run: boolean;
}

/** What a format declares about the folders it reads. Only its own tool's files: never another format's. */
export interface Markers {
  /** Tried in order; a folder matches at the specificity of its surest matching rule. */
  rules: readonly MarkerRule[];
  /** Files the tool never writes into a run: with one of them (e.g. a model download) the folder still matches, but as no run. */
  absent?: readonly string[];
}

/** How `listing` matches the declared markers, or null when no rule matches. */
export function matchMarkers(markers: Markers, listing: DirListing): MarkerMatch | null {
  const has = compiled(markers);
  let match: MarkerMatch | null = null;
  for (const rule of markers.rules) {
    const run = rule.run ?? true;
    if (match !== null && rule.specificity <= match.specificity && (match.run || !run)) {
      continue;
    }
    if (rule.all.every((globs) => has(typeof globs === 'string' ? [globs] : globs, listing)) && (rule.where?.(listing) ?? true)) {
      match = match === null ? { specificity: rule.specificity, run } : { specificity: higher(match.specificity, rule.specificity), run: match.run || run };
    }
  }
  // Still the tool's folder (no less specific format may take it), just not a run.
  return match && markers.absent && has(markers.absent, listing) ? { ...match, run: false } : match;
}

// --- internal ---

function higher(a: Specificity, b: Specificity): Specificity {
  return a > b ? a : b;
}

type Has = (globs: readonly string[], listing: DirListing) => boolean;

const COMPILED = new WeakMap<Markers, Has>();

/** Glob lists compiled once per declaration (detection runs on every folder of a crawl). */
function compiled(markers: Markers): Has {
  let has = COMPILED.get(markers);
  if (!has) {
    const matchers = new Map<string, (name: string) => boolean>();
    has = (globs, listing) => {
      const key = globs.join('\n');
      let isMatch = matchers.get(key);
      if (!isMatch) {
        isMatch = picomatch([...globs], { dot: true });
        matchers.set(key, isMatch);
      }
      return listing.names.some((name) => isMatch(name));
    };
    COMPILED.set(markers, has);
  }
  return has;
}
