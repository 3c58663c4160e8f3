import type { Client } from '@elastic/elasticsearch';
import { QueryError } from '../errors.ts';
import type { RunRecord } from '../record/schema.ts';
import { describeSyntax, parseQuery } from '../search/parse.ts';
import { bestRuns, bestRunsPerFamily, reproduceRun, searchRuns, showRun, similarRuns, type BestHit, type RunHit } from '../search/run.ts';
import { displayWidth, renderTable, type TableColumn } from './text-table.ts';

export type SearchCommand = 'search' | 'show' | 'reproduce' | 'best' | 'similar';

export interface SearchCommandDeps {
  client: Client;
  /** The runs index or alias. */
  index: string;
  now: Date;
  stdout(text: string): void;
  stderr(text: string): void;
  /** `--json` was given: machine output even on a TTY. */
  json: boolean;
  /** stdout is a terminal: tables; otherwise JSON. */
  tty: boolean;
  /** Search the `.cjk`/`.ik` multi-fields; default: detected from the index mapping. */
  cjkFields?: boolean;
}

/** Per-command help. Exit codes: 0 found, 1 nothing found (like grep), 2 usage, query syntax or ambiguous id prefix. */
export const USAGE: Record<SearchCommand, string> = {
  search: `Usage: lora-catalog search <query…> [--size n] [--include-vanished] [--json]\nRuns marked vanished (no longer on storage) are left out unless --include-vanished.\n\n${describeSyntax()}`,
  show: 'Usage: lora-catalog show <run_id or its first characters> [--json]\nThe stored record of one run.',
  reproduce:
    'Usage: lora-catalog reproduce <run_id> [--json] > config.yaml\nPrints the run\'s original config (secrets redacted) in its own syntax, with a header saying where the run and its outputs are.\nFor JSON configs the header goes to stderr, so stdout stays valid JSON.',
  best: 'Usage: lora-catalog best [--base <family or model words>] [--rank n] [--top n] [--json]\nCompleted runs with the lowest final loss, one per config. Without --base: the best of each base-model\nfamily (default 3 each), since final losses of different families (SD ~0.03, LLMs ~1) do not compare.',
  similar: 'Usage: lora-catalog similar <run_id> [--size n] [--json]\nRuns with similar prompts, tags and notes, boosted by the same rank, base family and a learning rate within ±50 %.',
};

export async function runSearchCommands(cmd: SearchCommand, argv: string[], deps: SearchCommandDeps): Promise<number> {
  const args = splitArgs(argv);
  if (args.help) {
    deps.stdout(USAGE[cmd]);
    return 0;
  }
  if (args.bad) {
    deps.stderr(`lora-catalog ${cmd}: ${args.bad}\n\n${USAGE[cmd]}`);
    return 2;
  }
  const machine = deps.json || args.json || !deps.tty;
  switch (cmd) {
    case 'search': {
      const text = args.words.join(' ');
      try {
        parseQuery(text); // syntax errors before any request
        const cjkFields = deps.cjkFields ?? (await hasCjkFields(deps.client, deps.index));
        const result = await searchRuns(deps.client, deps.index, text, { now: deps.now, size: args.size, cjkFields, includeVanished: args.includeVanished });
        deps.stdout(machine ? JSON.stringify(result) : `${result.total} run(s)\n${renderTable(HIT_COLUMNS, result.hits)}`);
        return result.total > 0 ? 0 : 1;
      } catch (err) {
        if (err instanceof QueryError) {
          deps.stderr(caretMessage(text, err));
          return 2;
        }
        throw err;
      }
    }
    case 'best': {
      if (args.base === undefined) {
        const families = await bestRunsPerFamily(deps.client, deps.index, { rank: args.rank, top: args.size });
        deps.stdout(machine ? JSON.stringify({ families }) : families.map((f) => `base model family ${f.family ?? 'unknown (not comparable with any family)'}\n${renderTable(BEST_COLUMNS, f.hits)}`).join('\n\n'));
        return families.length > 0 ? 0 : 1;
      }
      const hits = await bestRuns(deps.client, deps.index, { base: args.base, rank: args.rank, top: args.size });
      deps.stdout(machine ? JSON.stringify({ hits }) : renderTable(BEST_COLUMNS, hits));
      return hits.length > 0 ? 0 : 1;
    }
    default:
      return runOneRunCommand(cmd, args, deps, machine);
  }
}

/** The query, and a caret under the offending character (display columns, so CJK text lines up). */
export function caretMessage(query: string, err: QueryError): string {
  const pad = ' '.repeat(displayWidth(query.slice(0, err.position)));
  return `lora-catalog search: ${err.message}\n  ${query}\n  ${pad}^\n(lora-catalog search --help lists the syntax)`;
}

// --- internal ---

interface Args {
  words: string[];
  help: boolean;
  json: boolean;
  includeVanished: boolean;
  size?: number;
  base?: string;
  rank?: number;
  bad?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const shortId = (id: string) => id.slice(0, 8);
const num = (n: number | null, digits = 4) => (n === null ? '' : String(Number(n.toPrecision(digits))));
const lr = (n: number | null) => (n === null ? '' : n.toExponential().replace(/\.?0+e/, 'e').replace('e+', 'e'));
const day = (iso: string | null) => iso?.slice(0, 10) ?? '';

const HIT_COLUMNS: TableColumn<RunHit>[] = [
  { header: 'RUN', width: 8, cell: (h) => shortId(h.run_id) },
  { header: 'STATUS', width: 11, cell: (h) => h.status },
  { header: 'FORMAT', width: 13, cell: (h) => h.format },
  { header: 'BASE', width: 24, cell: (h) => h.base_model ?? '' },
  { header: 'RANK', width: 4, align: 'right', cell: (h) => num(h.lora_rank) },
  { header: 'LR', width: 7, align: 'right', cell: (h) => lr(h.learning_rate) },
  { header: 'LOSS', width: 7, align: 'right', cell: (h) => num(h.loss_final) },
  { header: 'CREATED', width: 10, cell: (h) => day(h.created_at) },
  { header: 'PROMPT', width: 40, cell: (h) => h.prompt_example ?? '' },
];

const BEST_COLUMNS: TableColumn<BestHit>[] = [
  ...HIT_COLUMNS.slice(0, 1),
  { header: 'LOSS', width: 7, align: 'right', cell: (h) => num(h.loss_final) },
  { header: 'RUNS', width: 4, align: 'right', cell: (h) => String(h.same_config_runs) },
  ...(HIT_COLUMNS.slice(2, 6) as TableColumn<BestHit>[]),
  ...(HIT_COLUMNS.slice(7) as TableColumn<BestHit>[]),
];

async function runOneRunCommand(cmd: 'show' | 'reproduce' | 'similar', args: Args, deps: SearchCommandDeps, machine: boolean): Promise<number> {
  const wanted = args.words[0];
  if (wanted === undefined || args.words.length > 1) {
    deps.stderr(`lora-catalog ${cmd}: expected one run id\n\n${USAGE[cmd]}`);
    return 2;
  }
  const runId = await resolveRunId(deps, wanted);
  if (Array.isArray(runId)) {
    deps.stderr(`lora-catalog ${cmd}: run id prefix ${wanted} is ambiguous (${runId.join(', ')}, …): give more characters`);
    return 2;
  }
  if (runId === null) {
    deps.stderr(`lora-catalog ${cmd}: no run ${wanted} in ${deps.index}`);
    return 1;
  }
  if (cmd === 'similar') {
    const hits = (await similarRuns(deps.client, deps.index, runId, args.size ?? 10)) ?? [];
    deps.stdout(machine ? JSON.stringify({ hits }) : renderTable(HIT_COLUMNS, hits));
    return 0;
  }
  const record = await showRun(deps.client, deps.index, runId);
  if (record === null) {
    deps.stderr(`lora-catalog ${cmd}: no run ${wanted} in ${deps.index}`);
    return 1;
  }
  if (cmd === 'show') {
    deps.stdout(machine ? JSON.stringify(record) : describeRun(record));
    return 0;
  }
  const reproduced = reproduceRun(record);
  if (deps.json || args.json) {
    deps.stdout(JSON.stringify({ run_id: runId, ...reproduced }));
  } else {
    if (reproduced.syntax === 'json') {
      deps.stderr(reproduced.header.map((l) => `# ${l}`).join('\n'));
    }
    deps.stdout(reproduced.text.replace(/\n$/, ''));
  }
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

function describeRun(r: RunRecord): string {
  const rows: Array<[string, unknown]> = [
    ['run_id', r.run_id],
    ['source', r.source.uri],
    ['format', r.format],
    ['status', `${r.status} (${r.status_evidence})`],
    ['parse_error', r.parse_error ? `${r.parse_error.file}: ${r.parse_error.message}` : null],
    ['base_model', r.base_model && `${r.base_model}${r.base_model_family ? ` [${r.base_model_family}]` : ''}`],
    ['rank / alpha', r.lora_rank !== null || r.lora_alpha !== null ? `${num(r.lora_rank)} / ${num(r.lora_alpha)}` : null],
    ['learning_rate', r.learning_rate === null ? null : lr(r.learning_rate)],
    ['epochs / batch', r.epochs !== null || r.batch_size !== null ? `${num(r.epochs)} / ${num(r.batch_size)}` : null],
    ['optimizer', r.optimizer],
    ['data', [r.data_dir, ...r.dataset_dirs.map((d) => d.path)].filter(Boolean).join(', ')],
    ['tags', [...r.tags, ...r.tag_summary.slice(0, 10).map((t) => `${t.tag}(${t.count})`)].join(', ')],
    ['prompt', r.prompt_example],
    ['notes', r.notes],
    ['created / started / finished', [r.created_at, r.started_at, r.finished_at].map((d) => d ?? '-').join(' / ')],
    ['loss final / min', r.loss_final !== null ? `${num(r.loss_final)} / ${num(r.loss_min)} (${r.loss_source})` : null],
    ['loss per epoch', r.loss_per_epoch.map((e) => `${e.epoch}:${num(e.mean)}`).join(' ')],
    ['best checkpoint', r.best_checkpoint && `${r.best_checkpoint}${r.best_epoch === null ? '' : ` (epoch ${r.best_epoch})`}`],
    ['output', [r.output_dir, r.output_name].filter(Boolean).join(' / ')],
    ['artifacts', r.artifacts.length > 0 ? `${r.artifacts.length}: ${r.artifacts.slice(0, 5).map((a) => a.path).join(', ')}` : null],
    ['config', r.config.file && `${r.config.file} (lora-catalog reproduce ${shortId(r.run_id)})`],
    ['warnings', r.parse_warnings.join('; ')],
  ];
  return rows
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k.padEnd(29)} ${String(v)}`)
    .join('\n');
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

function splitArgs(argv: string[]): Args {
  const args: Args = { words: [], help: false, json: false, includeVanished: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--help' || flag === '-h') {
      args.help = true;
    } else if (flag === '--json') {
      args.json = true;
    } else if (flag === '--include-vanished') {
      args.includeVanished = true;
    } else if (flag === '--') {
      args.words.push(...argv.slice(i + 1));
      break;
    } else if (flag === '--size' || flag === '--top' || flag === '-n') {
      args.size = positiveInt(flag, value(), args);
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

function positiveInt(flag: string, text: string | undefined, args: Args): number | undefined {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n <= 0 || n > 10_000) {
    args.bad = `${flag} expects a whole number from 1 to 10000, got ${text ?? 'nothing'}`;
    return undefined;
  }
  return n;
}
