export interface SearchArgs {
  words: string[];
  help: boolean;
  json: boolean;
  includeVanished: boolean;
  /** `compare --all`: every key, not only those that differ. */
  all: boolean;
  size?: number;
  page?: number;
  base?: string;
  rank?: number;
  /** A usage error to report (exit 2). */
  bad?: string;
}

/** Options each command accepts (besides --help/--json and `--`). */
export const COMMAND_FLAGS: Record<string, readonly string[]> = {
  search: ['--size', '-n', '--page', '--include-vanished'],
  show: [],
  reproduce: [],
  best: ['--base', '--rank', '--top', '--size', '-n'],
  similar: ['--size', '-n'],
  compare: ['--all'],
};

/**
 * Splits a search command's argv. An option the command does not take is a usage error naming it, not a query
 * word: `--sise 5` would otherwise search for the text "--sise" and silently find nothing.
 */
export function splitArgs(cmd: string, argv: string[]): SearchArgs {
  const args: SearchArgs = { words: [], help: false, json: false, includeVanished: false, all: false };
  const allowed = new Set(COMMAND_FLAGS[cmd] ?? []);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--help' || flag === '-h') {
      args.help = true;
    } else if (flag === '--json') {
      args.json = true;
    } else if (flag === '--') {
      args.words.push(...argv.slice(i + 1));
      break;
    } else if (/^--[A-Za-z]/.test(flag) && !allowed.has(flag)) {
      const known = [...allowed, '--json', '--help'].join(', ');
      args.bad ??= `unknown option ${flag} (${cmd} takes ${known}; to search for the text, write -- ${flag})`;
    } else if (flag === '--include-vanished') {
      args.includeVanished = true;
    } else if (flag === '--all') {
      args.all = true;
    } else if (flag === '--size' || flag === '--top' || (flag === '-n' && allowed.has(flag))) {
      args.size = positiveInt(flag, value(), args);
    } else if (flag === '--page') {
      args.page = positiveInt(flag, value(), args);
    } else if (flag === '--rank') {
      args.rank = positiveInt(flag, value(), args);
    } else if (flag === '--base') {
      args.base = value();
      if (!args.base) {
        args.bad = '--base expects a base model family or words of its name';
      }
    } else {
      args.words.push(a);
    }
  }
  return args;
}

// --- internal ---

function positiveInt(flag: string, text: string | undefined, args: SearchArgs): number | undefined {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n <= 0 || n > 10_000) {
    args.bad = `${flag} expects a whole number from 1 to 10000, got ${text ?? 'nothing'}`;
    return undefined;
  }
  return n;
}
