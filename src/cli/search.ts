import type { Client } from '@elastic/elasticsearch';
import { QueryError } from '../errors.ts';
import { queryHints, type QueryHint } from '../search/hints.ts';
import { describeSyntax, parseQuery } from '../search/parse.ts';
import { bestRuns, bestRunsPerFamily, reproduceRun, searchRuns, showRun, type StoredRun } from '../search/run.ts';
import { similarRuns } from '../search/similar.ts';
import { renderComparison } from './compare.ts';
import { bestColumns, hitColumns, similarColumns } from './hit-columns.ts';
import { stateLabel } from './run-format.ts';
import { splitArgs, type SearchArgs } from './search-args.ts';
import { describeRun } from './show-run.ts';
import { displayWidth, renderTable } from './text-table.ts';

export type SearchCommand = 'search' | 'show' | 'reproduce' | 'best' | 'similar' | 'compare';

export interface SearchCommandDeps {
  client: Client;
  /** The runs index or alias. */
  index: string;
  now: Date;
  stdout(text: string): void;
  stderr(text: string): void;
  /** `--json` was given: JSON instead of text, on a terminal or not. */
  json: boolean;
  /** stdout is a terminal: tables fitted to `columns`, charts in colour. Piped output is the same text, uncut and uncoloured. */
  tty: boolean;
  /** Terminal width (process.stdout.columns); default 100 on a terminal. */
  columns?: number;
  /** Search the `.cjk`/`.ik` multi-fields; default: detected from the index mapping. */
  cjkFields?: boolean;
}

/** Hits per page when --size is not given. */
const DEFAULT_PAGE_SIZE = 20;
/** Width assumed on a terminal that does not say. */
const DEFAULT_COLUMNS = 100;

/** Per-command help. Exit codes: 0 found, 1 nothing found (like grep), 2 usage, query syntax or ambiguous id prefix. */
export const USAGE: Record<SearchCommand, string> = {
  search: `Usage: lora-catalog search <query…> [--size n] [--page n] [--include-vanished] [--json]\nShows --size hits (default ${DEFAULT_PAGE_SIZE}) from page --page (default 1). Runs marked vanished (no longer on storage) are left out unless --include-vanished, which adds a STATE column.\nText stays text when piped (untruncated); --json gives JSON.\n\n${describeSyntax()}`,
  show: 'Usage: lora-catalog show <run_id or its first characters> [--json]\nThe stored record of one run, with its loss per epoch as a chart.',
  reproduce:
    "Usage: lora-catalog reproduce <run_id> [--json] > config.yaml\nPrints the run's original config (secrets redacted) in its own syntax, with a header saying where the run and its outputs are.\nFor JSON configs the header goes to stderr, so stdout stays valid JSON.",
  best: 'Usage: lora-catalog best [--base <family or model words>] [--rank n] [--top n] [--json]\nCompleted runs with the lowest final loss, one per config. Without --base: the best of each base-model\nfamily (default 3 each), since final losses of different families (SD ~0.03, LLMs ~1) do not compare.',
  similar:
    'Usage: lora-catalog similar <run_id> [--size n] [--json]\nRuns with similar prompts, tags and notes, boosted by the same rank, base family and a learning rate within ±50 %.\nEach hit shows its score and why it is similar.',
  compare:
    'Usage: lora-catalog compare <run_id> <run_id>… [--all] [--json]\nLines up the runs key by key (record summary, then config keys; only keys that differ unless --all) and overlays their loss curves.',
};

export async function runSearchCommands(cmd: SearchCommand, argv: string[], deps: SearchCommandDeps): Promise<number> {
  const args = splitArgs(cmd, argv);
  if (args.help) {
    deps.stdout(USAGE[cmd]);
    return 0;
  }
  if (args.bad) {
    deps.stderr(`lora-catalog ${cmd}: ${args.bad}\n\n${USAGE[cmd]}`);
    return 2;
  }
  const machine = deps.json || args.json;
  const columns = deps.tty ? (deps.columns ?? DEFAULT_COLUMNS) : null;
  switch (cmd) {
    case 'search':
      return runSearch(args, deps, machine, columns);
    case 'best': {
      if (args.base === undefined) {
        const families = await bestRunsPerFamily(deps.client, deps.index, { rank: args.rank, top: args.size });
        deps.stdout(
          machine
            ? JSON.stringify({ families })
            : families
                .map(
                  (f) =>
                    `base model family ${f.family ?? 'unknown (not comparable with any family)'}\n${renderTable(bestColumns(f.hits), f.hits, { columns })}`,
                )
                .join('\n\n'),
        );
        return families.length > 0 ? 0 : 1;
      }
      const hits = await bestRuns(deps.client, deps.index, { base: args.base, rank: args.rank, top: args.size });
      deps.stdout(machine ? JSON.stringify({ hits }) : renderTable(bestColumns(hits), hits, { columns }));
      return hits.length > 0 ? 0 : 1;
    }
    case 'compare':
      return runCompare(args, deps, machine, columns);
    default:
      return runOneRunCommand(cmd, args, deps, machine, columns);
  }
}

/** The query, and a caret under the offending character (display columns, so CJK text lines up). */
export function caretMessage(query: string, err: QueryError): string {
  const pad = ' '.repeat(displayWidth(query.slice(0, err.position)));
  return `lora-catalog search: ${err.message}\n  ${query}\n  ${pad}^\n(lora-catalog search --help lists the syntax)`;
}

/** A query hint: the message, the query and a caret, like a syntax error but the search still runs. */
export function hintMessage(query: string, hint: QueryHint): string {
  const pad = ' '.repeat(displayWidth(query.slice(0, hint.pos)));
  return `lora-catalog search: hint: ${hint.message}\n  ${query}\n  ${pad}^`;
}

// --- internal ---

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function runSearch(args: SearchArgs, deps: SearchCommandDeps, machine: boolean, columns: number | null): Promise<number> {
  const text = args.words.join(' ');
  const size = args.size ?? DEFAULT_PAGE_SIZE;
  const page = args.page ?? 1;
  try {
    parseQuery(text); // syntax errors before any request
    for (const hint of queryHints(text)) {
      deps.stderr(hintMessage(text, hint));
    }
    const cjkFields = deps.cjkFields ?? (await hasCjkFields(deps.client, deps.index));
    const result = await searchRuns(deps.client, deps.index, text, {
      now: deps.now,
      size,
      from: (page - 1) * size,
      cjkFields,
      includeVanished: args.includeVanished,
    });
    if (machine) {
      deps.stdout(JSON.stringify({ ...result, page, size }));
    } else {
      const table = result.hits.length > 0 ? `${renderTable(hitColumns(result.hits, { state: args.includeVanished }), result.hits, { columns })}\n` : '';
      deps.stdout(`${table}${footer(result.total, result.hits.length, page, size)}`);
    }
    return result.total > 0 ? 0 : 1;
  } catch (err) {
    if (err instanceof QueryError) {
      deps.stderr(caretMessage(text, err));
      return 2;
    }
    throw err;
  }
}

/** `showing 1-20 of 66 (--size/--page for more)`, or why nothing is shown. */
function footer(total: number, shown: number, page: number, size: number): string {
  if (total === 0) {
    return 'no runs found';
  }
  if (shown === 0) {
    return `page ${page} is past the end: ${total} run(s), ${Math.ceil(total / size)} page(s) of ${size}`;
  }
  const first = (page - 1) * size + 1;
  const last = first - 1 + shown;
  const more = last < total ? ' (--size/--page for more)' : '';
  return shown === total ? `${total} run(s)` : `showing ${first === last ? first : `${first}-${last}`} of ${total}${more}`;
}

async function runCompare(args: SearchArgs, deps: SearchCommandDeps, machine: boolean, columns: number | null): Promise<number> {
  if (args.words.length < 2) {
    deps.stderr(`lora-catalog compare: expected two or more run ids\n\n${USAGE.compare}`);
    return 2;
  }
  const runs: StoredRun[] = [];
  for (const wanted of args.words) {
    const run = await findRun('compare', wanted, deps);
    if (typeof run === 'number') {
      return run;
    }
    runs.push(run);
  }
  deps.stdout(machine ? JSON.stringify({ runs }) : renderComparison(runs, { all: args.all, columns, color: deps.tty }));
  return 0;
}

/** The stored run an id or prefix names, or the exit code after saying why not. */
async function findRun(cmd: SearchCommand, wanted: string, deps: SearchCommandDeps): Promise<StoredRun | number> {
  const runId = await resolveRunId(deps, wanted);
  if (Array.isArray(runId)) {
    deps.stderr(`lora-catalog ${cmd}: run id prefix ${wanted} is ambiguous (${runId.join(', ')}, …): give more characters`);
    return 2;
  }
  const record = runId === null ? null : await showRun(deps.client, deps.index, runId);
  if (record === null) {
    deps.stderr(`lora-catalog ${cmd}: no run ${wanted} in ${deps.index}`);
    return 1;
  }
  return record;
}

async function runOneRunCommand(
  cmd: 'show' | 'reproduce' | 'similar',
  args: SearchArgs,
  deps: SearchCommandDeps,
  machine: boolean,
  columns: number | null,
): Promise<number> {
  const wanted = args.words[0];
  if (wanted === undefined || args.words.length > 1) {
    deps.stderr(`lora-catalog ${cmd}: expected one run id\n\n${USAGE[cmd]}`);
    return 2;
  }
  const record = await findRun(cmd, wanted, deps);
  if (typeof record === 'number') {
    return record;
  }
  if (cmd === 'similar') {
    const hits = (await similarRuns(deps.client, deps.index, record.run_id, args.size ?? 10)) ?? [];
    deps.stdout(machine ? JSON.stringify({ hits }) : hits.length > 0 ? renderTable(similarColumns(hits), hits, { columns }) : 'no similar runs');
    return 0;
  }
  if (cmd === 'show') {
    deps.stdout(machine ? JSON.stringify(record) : describeRun(record, { width: columns ?? DEFAULT_COLUMNS, color: deps.tty }));
    return 0;
  }
  const reproduced = reproduceRun(record);
  const gone = stateLabel(record);
  if (machine) {
    deps.stdout(JSON.stringify({ run_id: record.run_id, state: gone || 'active', ...reproduced }));
    return 0;
  }
  if (gone) {
    // Said first and on stderr too, so it is seen even when stdout goes to a file.
    deps.stderr(`lora-catalog reproduce: warning: run ${record.run_id} is ${gone}: its files are gone from ${record.source.uri}`);
  }
  const warning = gone && reproduced.syntax !== 'json' ? `# WARNING: this run is ${gone}: its files (outputs, checkpoints) are gone from storage\n` : '';
  if (reproduced.syntax === 'json') {
    deps.stderr(reproduced.header.map((l) => `# ${l}`).join('\n'));
  }
  deps.stdout(`${warning}${reproduced.text.replace(/\n$/, '')}`);
  return 0;
}

/** A full id is used as is; a prefix (as the tables show) must name exactly one run, else the candidates are returned. */
async function resolveRunId(deps: SearchCommandDeps, wanted: string): Promise<string | string[] | null> {
  if (UUID.test(wanted)) {
    return wanted.toLowerCase();
  }
  const res = await deps.client.search<{ run_id: string }>({
    index: deps.index,
    query: { prefix: { run_id: wanted.toLowerCase() } },
    size: 2,
    _source: ['run_id'],
  });
  const ids = res.hits.hits.map((h) => h._source?.run_id ?? h._id ?? '');
  return ids.length > 1 ? ids : (ids[0] ?? null);
}

/** Whether the index maps the CJK multi-fields (the mapping adds them only where the cluster has the analyzers). */
async function hasCjkFields(client: Client, index: string): Promise<boolean> {
  try {
    const res = await client.indices.getFieldMapping({ index, fields: ['prompt_example.cjk', 'prompt_example.ik'] });
    return Object.values(res).some((m) => Object.keys(m.mappings).length > 0);
  } catch {
    return false;
  }
}
