import type { StoredRun } from '../search/run.ts';
import { lossChart } from './loss-chart.ts';
import { lr, num, shortId, stateLabel } from './run-format.ts';

export interface DescribeOptions {
  /** Terminal columns for the chart. */
  width: number;
  color: boolean;
}

/** Artifacts listed by name in `show`; the count always covers all of them. */
const MAX_LISTED_ARTIFACTS = 5;

/** Key column width of `show`. */
const KEY_WIDTH = 29;

/** The `show` text: one labelled line per known fact, multi-line values indented, then the loss chart. */
export function describeRun(r: StoredRun, opts: DescribeOptions): string {
  // Records parsed before created_at_source existed have none (undefined at run time).
  const createdSource: string | null | undefined = r.created_at_source;
  const rows: Array<[string, unknown]> = [
    ['run_id', r.run_id],
    ['state', stateLabel(r) || null],
    ['source', r.source.uri],
    ['format', r.format],
    ['status', `${r.status} (${r.status_evidence})`],
    ['parse_error', r.parse_error ? parseErrorText(r.parse_error) : null],
    ['base_model', r.base_model && `${r.base_model}${r.base_model_family ? ` [${r.base_model_family}]` : ''}`],
    ['rank / alpha', r.lora_rank !== null || r.lora_alpha !== null ? `${num(r.lora_rank)} / ${num(r.lora_alpha)}` : null],
    ['learning_rate', r.learning_rate === null ? null : lr(r.learning_rate)],
    ['epochs / batch', r.epochs !== null || r.batch_size !== null ? `${num(r.epochs)} / ${num(r.batch_size)}` : null],
    ['optimizer', r.optimizer],
    ['data', unique([r.data_dir, ...r.dataset_dirs.map((d) => d.path)]).join(', ')],
    ['tags', tagsText(r)],
    ['prompt', r.prompt_example],
    ['notes', r.notes],
    [
      'created / started / finished',
      [r.created_at, r.started_at, r.finished_at].map((d) => d ?? '-').join(' / ') + (createdSource ? ` (created from ${createdSource})` : ''),
    ],
    ['loss final / min', r.loss_final !== null ? `${num(r.loss_final)} / ${num(r.loss_min)} (${r.loss_source})` : null],
    ['eval_loss', r.eval_metrics.eval_loss === undefined ? null : num(r.eval_metrics.eval_loss)],
    ['loss per epoch', r.loss_per_epoch.map((e) => `${e.epoch}:${num(e.mean)}`).join(' ')],
    ['best checkpoint', r.best_checkpoint && `${r.best_checkpoint}${r.best_epoch === null ? '' : ` (epoch ${r.best_epoch})`}`],
    ['output', [r.output_dir, r.output_name].filter(Boolean).join(' / ')],
    ['artifacts', artifactsText(r)],
    ['config', r.config.file && `${r.config.file} (lora-catalog reproduce ${shortId(r.run_id)})`],
    ['warnings', r.parse_warnings.join('; ')],
  ];
  const text = rows
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k.padEnd(KEY_WIDTH)} ${indentContinuation(String(v))}`)
    .join('\n');
  const chart = lossChart([{ label: `mean loss per epoch (${r.loss_source})`, points: r.loss_per_epoch.map((e) => ({ epoch: e.epoch, loss: e.mean })) }], opts);
  return chart ? `${text}\n\n${chart}` : text;
}

// --- internal ---

/** Adapters' messages often start with the file already (`config.toml: …`); the file is said once. */
function parseErrorText(pe: { file: string; message: string }): string {
  const message = pe.message.startsWith(`${pe.file}: `) ? pe.message.slice(pe.file.length + 2) : pe.message;
  return `${pe.file}: ${message.replace(/\n{2,}/g, '\n').trimEnd()}`;
}

/** Run tags, then dataset caption tags with counts; a caption tag that is also a run tag is shown once, with its count. */
function tagsText(r: StoredRun): string {
  const counted = new Map(r.tag_summary.slice(0, 10).map((t) => [t.tag.toLowerCase(), t]));
  const plain = unique(r.tags).filter((t) => !counted.has(t.toLowerCase()));
  return [...plain, ...[...counted.values()].map((t) => `${t.tag}(${t.count})`)].join(', ');
}

function artifactsText(r: StoredRun): string | null {
  const n = r.artifacts.length;
  if (n === 0) {
    return null;
  }
  const listed = r.artifacts
    .slice(0, MAX_LISTED_ARTIFACTS)
    .map((a) => a.path)
    .join(', ');
  return n > MAX_LISTED_ARTIFACTS ? `${n}: ${listed}, … ${n - MAX_LISTED_ARTIFACTS} more` : `${n}: ${listed}`;
}

function unique(values: Array<string | null>): string[] {
  return [...new Set(values.filter((v): v is string => Boolean(v)))];
}

/** Lines after the first line up under the value column. */
function indentContinuation(value: string): string {
  return value.replace(/\n/g, `\n${' '.repeat(KEY_WIDTH + 1)}`);
}
