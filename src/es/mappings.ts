import type { estypes } from '@elastic/elasticsearch';

/** What the cluster can analyse beyond the built-in `standard` analyzer, detected from `GET _nodes/plugins`. */
export interface AnalysisCapabilities {
  /** analysis-common module: the `cjk` analyzer (CJK bigrams). */
  cjk: boolean;
  /** IK plugin: `ik_max_word` / `ik_smart`. */
  ik: boolean;
}

/** Bumped when a mapping changes incompatibly: `indices migrate` creates `<alias>-v<N>`, copies, swaps the alias. */
export const MAPPING_VERSION = 2;

/** Text people search (prompts, notes, tags, datasets) gets CJK-aware multi-fields where the cluster can. */
export function searchableText(caps: AnalysisCapabilities): estypes.MappingProperty {
  const fields: Record<string, estypes.MappingProperty> = {};
  if (caps.cjk) {
    fields.cjk = { type: 'text', analyzer: 'cjk' };
  }
  if (caps.ik) {
    fields.ik = { type: 'text', analyzer: 'ik_max_word', search_analyzer: 'ik_smart' };
  }
  return Object.keys(fields).length > 0 ? { type: 'text', fields } : { type: 'text' };
}

const keyword = { type: 'keyword', ignore_above: 1024 } as const;
const lowerKeyword = { type: 'keyword', normalizer: 'lowercase_keyword', ignore_above: 1024 } as const;
const date = { type: 'date' } as const;
const double = { type: 'double' } as const;
const integer = { type: 'integer' } as const;
const long = { type: 'long' } as const;

export const INDEX_SETTINGS: estypes.IndicesIndexSettings = {
  analysis: { normalizer: { lowercase_keyword: { type: 'custom', filter: ['lowercase'] } } },
};

/** One document per run: the RunRecord plus sync state. Hyperparameters typed; the full config stored, not indexed. */
export function runsMappings(caps: AnalysisCapabilities): estypes.MappingTypeMapping {
  const text = searchableText(caps);
  return {
    dynamic: 'strict',
    properties: {
      run_id: keyword,
      run_id_basis: keyword,
      source: { properties: { kind: keyword, root: keyword, path: { type: 'keyword' }, uri: { type: 'keyword' } } },
      sort_key: { type: 'keyword' },
      shard_bucket: integer,
      format: keyword,
      run_kind: keyword,
      status: keyword,
      status_evidence: { type: 'text' },
      // The evidence a sync re-derives time-dependent status from (record/schema.ts StatusInputs).
      status_inputs: {
        properties: {
          max_steps: long,
          last_step: long,
          final_artifact: keyword,
          progressed: { type: 'boolean' },
          terminal: keyword,
          terminal_evidence: { type: 'text', index: false },
          caveat: { type: 'text', index: false },
          last_activity_at: date,
          last_activity_source: keyword,
          external_logs: { type: 'keyword', index: false },
        },
      },
      parse_error: { properties: { file: keyword, message: { type: 'text' } } },
      base_model: { ...keyword, fields: { text: { type: 'text' } } },
      base_model_family: lowerKeyword,
      lora_rank: double,
      lora_alpha: double,
      learning_rate: double,
      learning_rate_source: keyword,
      learning_rates: { type: 'flattened' },
      batch_size: double,
      epochs: double,
      total_steps: long,
      optimizer: lowerKeyword,
      optimizer_name: lowerKeyword,
      resolution: keyword,
      network_module: keyword,
      target_modules: keyword,
      data_dir: { ...keyword, fields: { text: { type: 'text' } } },
      dataset_dirs: { type: 'nested', properties: { path: keyword, repeats: double, images: double } },
      dataset_text: text,
      tag_summary: { type: 'nested', properties: { tag: keyword, count: double } },
      tag_text: text,
      prompt_example: text,
      prompts: text,
      tags: lowerKeyword,
      notes: text,
      output_dir: keyword,
      output_name: { ...keyword, fields: { text: { type: 'text' } } },
      started_at: date,
      finished_at: date,
      created_at: date,
      created_at_source: keyword,
      loss_final: double,
      loss_min: double,
      best_epoch: integer,
      best_checkpoint: keyword,
      // Kept in _source for show/compare/rollups, not indexed: nested it cost 10 extra Lucene documents per run (one per
      // epoch) and ~15 % more indexing CPU, and no query used it; per-epoch queries read the rollups' curve documents.
      loss_per_epoch: { type: 'object', enabled: false },
      loss_per_epoch_count: integer,
      loss_source: keyword,
      eval_metrics: { type: 'flattened' },
      artifacts: { type: 'object', enabled: false },
      config: { type: 'object', enabled: false },
      config_hash: keyword,
      fingerprint: keyword,
      parse_warnings: { type: 'text' },
      parser_version: keyword,
      state: keyword,
      vanished_at: date,
      vanish_reason: keyword,
      retired_at: date,
      retired_reason: keyword,
      missing_since: date,
      copy_of: keyword,
      rollup_keys: keyword,
      first_seen_at: date,
      indexed_at: date,
      rollup_stamp: long,
    },
  };
}

/** Derived metrics; every doc has `kind` and a deterministic `_id`, so recomputation replaces. */
export function rollupsMappings(): estypes.MappingTypeMapping {
  return {
    dynamic: 'strict',
    properties: {
      kind: keyword,
      key: keyword,
      computed_at: date,
      run_id: keyword,
      epoch: integer,
      // Curve docs: runs that reached the epoch, and the sum of their losses (loss_mean = loss_sum / runs).
      runs: long,
      loss_sum: double,
      loss_mean: double,
      // loss_last, steps and created_at were written only by run_epoch docs (retired); kept so an index that still holds
      // some can be copied by `indices migrate` into a strict mapping.
      loss_last: double,
      loss_min: double,
      loss_max: double,
      loss_p50: double,
      loss_std: double,
      steps: integer,
      lora_rank: double,
      base_model_family: lowerKeyword,
      base_model: keyword,
      format: keyword,
      lr_band: keyword,
      lr_band_low: double,
      week: keyword,
      week_start: date,
      config_hash: keyword,
      count: long,
      completed: long,
      failed: long,
      started: long,
      success_rate: double,
      epochs_to_best_mean: double,
      created_at: date,
      task: keyword,
      family_group: keyword,
      families: keyword,
      cross_family: { type: 'boolean' },
      rollup_keys: keyword,
      rollup_stamp: long,
    },
  };
}

/** One document per sync: the pipeline-health record. */
export function syncRunsMappings(): estypes.MappingTypeMapping {
  return {
    dynamic: 'strict',
    properties: {
      sync_id: keyword,
      mode: keyword,
      status: keyword,
      dry_run: { type: 'boolean' },
      started_at: date,
      finished_at: date,
      duration_ms: long,
      sources: { properties: { name: keyword, kind: keyword, complete: { type: 'boolean' }, runs: long, warnings: long, error: { type: 'text' } } },
      counts: {
        properties: {
          found: long,
          new: long,
          changed: long,
          unchanged: long,
          status_updated: long,
          vanished: long,
          reappeared: long,
          retired: long,
          parse_errors: long,
          failed: long,
          written: long,
          indexed: long,
        },
      },
      durations_ms: { properties: { list: long, parse: long, bulk: long, vanish: long, rollups: long } },
      throughput_runs_per_s: double,
      errors: { properties: { run_id: keyword, code: keyword, message: { type: 'text' } } },
      errors_total: long,
      shard: keyword,
      failed_phase: keyword,
    },
  };
}

/** Leases that keep two schedulers from running the same job at once. */
export function leasesMappings(): estypes.MappingTypeMapping {
  return {
    dynamic: 'strict',
    // backfill: the backfill registry doc (src/sync/backfill-registry.ts), stored only.
    properties: { job: keyword, owner: keyword, acquired_at: date, renewed_at: date, expires_at: date, backfill: { type: 'object', enabled: false } },
  };
}
