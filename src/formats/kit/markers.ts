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
  const { rules, absent, globs } = compiled(markers);
  // Whether some name matches each glob, asked at most once per glob (rules share globs).
  const seen: Array<boolean | undefined> = new Array(globs);
  const has = ({ id, test }: Glob): boolean => (seen[id] ??= listing.names.some(test));
  let specificity: Specificity | null = null;
  let run = false;
  for (const { rule, all } of rules) {
    const ruleRun = rule.run ?? true;
    if (specificity !== null && rule.specificity <= specificity && (run || !ruleRun)) {
      continue;
    }
    if (all.every(has) && (rule.where?.(listing) ?? true)) {
      specificity = specificity === null ? rule.specificity : higher(specificity, rule.specificity);
      run ||= ruleRun;
    }
  }
  if (specificity === null) {
    return null;
  }
  // Still the tool's folder (no less specific format may take it), just not a run.
  return { specificity, run: run && !(absent !== null && has(absent)) };
}

// --- internal ---

function higher(a: Specificity, b: Specificity): Specificity {
  return a > b ? a : b;
}

/** One entry of a rule, compiled: `test` is true for a name it matches; `id` numbers the format's distinct globs. */
interface Glob {
  id: number;
  test: (name: string) => boolean;
}

interface CompiledMarkers {
  rules: { rule: MarkerRule; all: Glob[] }[];
  absent: Glob | null;
  /** How many distinct globs. */
  globs: number;
}

/** Declarations compiled once (detection runs on every folder of a crawl); equal glob lists share one matcher. */
const COMPILED = new WeakMap<Markers, CompiledMarkers>();

function compiled(markers: Markers): CompiledMarkers {
  let done = COMPILED.get(markers);
  if (!done) {
    const byKey = new Map<string, Glob>();
    const glob = (globs: string | readonly string[]): Glob => {
      const list = typeof globs === 'string' ? [globs] : [...globs];
      const key = list.join('\n');
      let compiledGlob = byKey.get(key);
      if (!compiledGlob) {
        // One regular expression per list: a crawl tests every name of every folder, and a bare regex is the fastest test.
        const re = new RegExp(list.map((g) => picomatch.makeRe(g, { dot: true }).source).join('|'));
        compiledGlob = { id: byKey.size, test: (name) => re.test(name) };
        byKey.set(key, compiledGlob);
      }
      return compiledGlob;
    };
    const rules = markers.rules.map((rule) => ({ rule, all: rule.all.map(glob) }));
    const absent = markers.absent ? glob(markers.absent) : null;
    done = { rules, absent, globs: byKey.size };
    COMPILED.set(markers, done);
  }
  return done;
}
