import type { BestHit, RunHit } from '../search/run.ts';
import type { SimilarHit } from '../search/similar.ts';
import { baseLabel, day, lr, num, shortId, stateLabel } from './run-format.ts';
import type { TableColumn } from './text-table.ts';

/**
 * Search result columns: the run's folder name first (what people recognise), its id prefix (what `show` takes),
 * then the hyperparameters. On a narrow terminal the prompt shrinks first, then CREATED and FORMAT go, the state
 * shrinks, the prompt goes, and only then base and name shrink, so numbers are never cut.
 * EVAL_LOSS only when a hit has one, STATE only with --include-vanished.
 */
export function hitColumns(hits: RunHit[], opts: { state: boolean }): TableColumn<RunHit>[] {
  const columns: TableColumn<RunHit>[] = [
    { header: 'NAME', width: 32, min: 12, giveWay: 6, cell: (h) => h.name },
    { header: 'RUN', width: 8, cell: (h) => shortId(h.run_id) },
    ...(opts.state ? [{ header: 'STATE', width: 24, min: 8, giveWay: 4, cell: (h: RunHit) => stateLabel(h) || 'active' }] : []),
    { header: 'STATUS', width: 11, cell: (h) => h.status },
    { header: 'FORMAT', width: 17, optional: true, giveWay: 3, cell: (h) => h.format },
    { header: 'BASE', width: 36, min: 12, giveWay: 5, cell: (h) => baseLabel(h.base_model, h.base_model_family) },
    { header: 'RANK', width: 4, align: 'right', cell: (h) => num(h.lora_rank) },
    { header: 'LR', width: 7, align: 'right', cell: (h) => lr(h.learning_rate) },
    { header: 'LOSS', width: 7, align: 'right', cell: (h) => num(h.loss_final) },
    ...(hits.some((h) => h.eval_loss !== null) ? [{ header: 'EVAL_LOSS', width: 9, align: 'right' as const, cell: (h: RunHit) => num(h.eval_loss) }] : []),
    { header: 'CREATED', width: 10, optional: true, giveWay: 2, cell: (h) => day(h.created_at) },
    { header: 'PROMPT', width: 60, min: 10, giveWay: 1, optional: true, dropAt: 4.5, cell: (h) => h.prompt_example ?? '' },
  ];
  return columns;
}

export function bestColumns(hits: BestHit[]): TableColumn<BestHit>[] {
  const base = hitColumns(hits, { state: false }) as TableColumn<BestHit>[];
  const runs: TableColumn<BestHit> = { header: 'RUNS', width: 4, align: 'right', cell: (h) => String(h.same_config_runs) };
  return [...base.slice(0, 2), runs, ...base.slice(2)];
}

/** Similar runs: score and the reasons, then the usual columns without the prompt (the reasons say what is shared). */
export function similarColumns(hits: SimilarHit[]): TableColumn<SimilarHit>[] {
  const base = (hitColumns(hits, { state: false }) as TableColumn<SimilarHit>[]).filter((c) => c.header !== 'PROMPT' && c.header !== 'CREATED');
  return [
    ...base.slice(0, 2),
    { header: 'SCORE', width: 6, align: 'right', cell: (h) => (h.score === null ? '' : h.score.toFixed(2)) },
    ...base.slice(2),
    { header: 'WHY', width: 80, min: 20, giveWay: 0, cell: (h) => h.reasons.join('; ') },
  ];
}
