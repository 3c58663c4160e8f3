import type { StoredRun } from '../search/run.ts';
import { runName } from '../search/run.ts';
import { lossChart } from './loss-chart.ts';
import { baseLabel, lr, num, shortId, stateLabel } from './run-format.ts';
import { renderTable, type TableColumn } from './text-table.ts';

export interface CompareOptions {
  /** Every key, not only those whose values differ. */
  all: boolean;
  /** Terminal columns (null off a terminal: nothing cut). */
  columns: number | null;
  color: boolean;
}

export interface ComparedKey {
  key: string;
  /** One value per run, '' where the run does not have the key. */
  values: string[];
}

/** Record facts compared before the config keys, in this order. */
const SUMMARY_KEYS: Array<[string, (r: StoredRun) => string]> = [
  ['state', (r) => stateLabel(r) || 'active'],
  ['format', (r) => r.format],
  ['status', (r) => r.status],
  ['base', (r) => baseLabel(r.base_model, r.base_model_family)],
  ['rank', (r) => num(r.lora_rank)],
  ['alpha', (r) => num(r.lora_alpha)],
  ['learning_rate', (r) => lr(r.learning_rate)],
  ['optimizer', (r) => r.optimizer ?? ''],
  ['epochs', (r) => num(r.epochs)],
  ['batch', (r) => num(r.batch_size)],
  ['loss_final', (r) => num(r.loss_final)],
  ['loss_min', (r) => num(r.loss_min)],
  ['eval_loss', (r) => num(r.eval_metrics.eval_loss)],
];

/** Keys of the runs lined up: the record summary, then every config key (sorted), only those that differ unless `all`. */
export function compareKeys(runs: StoredRun[], all: boolean): ComparedKey[] {
  const summary = SUMMARY_KEYS.map(([key, get]) => ({ key, values: runs.map(get) }));
  const configKeys = [...new Set(runs.flatMap((r) => Object.keys(r.config.values)))].sort();
  const config = configKeys.map((key) => ({ key: `config.${key}`, values: runs.map((r) => configValue(r.config.values[key])) }));
  return [...summary, ...config].filter((k) => all || new Set(k.values).size > 1);
}

/** `compare` as text: a key-by-key table (one column per run), then the loss curves overlaid. */
export function renderComparison(runs: StoredRun[], opts: CompareOptions): string {
  const keys = compareKeys(runs, opts.all);
  const columns: TableColumn<ComparedKey>[] = [
    { header: 'KEY', width: 36, min: 12, cell: (k) => k.key },
    ...runs.map((r, i) => ({ header: `${shortId(r.run_id)} ${runName(r.source)}`, width: 40, min: 10, cell: (k: ComparedKey) => k.values[i] ?? '' })),
  ];
  const table =
    keys.length > 0
      ? renderTable(columns, keys, { columns: opts.columns })
      : `no differences in ${SUMMARY_KEYS.length} summary keys and the config${opts.all ? '' : ' (--all lists every key)'}`;
  const chart = lossChart(
    runs.map((r) => ({ label: `${shortId(r.run_id)} ${runName(r.source)}`, points: r.loss_per_epoch.map((e) => ({ epoch: e.epoch, loss: e.mean })) })),
    { width: opts.columns ?? 100, color: opts.color },
  );
  return chart ? `${table}\n\nmean loss per epoch\n${chart}` : table;
}

// --- internal ---

function configValue(value: unknown): string {
  if (value === undefined || value === null) {
    return '';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}
