import { z } from 'zod';
import type { DirListing, RootInfo } from '../sources/types.ts';
import type { RunDraft } from './draft.ts';
import { configHash, findUuid, listingFingerprint, uuidV5 } from './identity.ts';
import { redactCollect, redactConfigText, redactString, scrubSecrets } from './redact.ts';
import { PARSER_VERSION, RunRecord, type FormatId } from './schema.ts';

export interface BuildInput {
  draft: RunDraft;
  format: FormatId;
  root: RootInfo;
  listing: DirListing;
  warnings: readonly string[];
}

/** Config text kept for `reproduce` is capped: configs are small, logs pasted into them are not. */
const MAX_CONFIG_TEXT = 256 * 1024;

/** Turns an adapter's draft into the canonical, validated, redacted record. Never throws: invalid drafts become parse_error records. */
export function buildRecord(input: BuildInput): RunRecord {
  const { draft, format, root, listing } = input;
  const { identity, ...fields } = draft;
  const { value: values, secrets } = redactCollect(fields.config?.values ?? {});
  // The config is redacted on its own (values above, text below); the record's copy of it is replaced by those.
  const redactedFields = redactCollect(stripUndefined({ ...fields, config: undefined }));
  const warnings = [...input.warnings];
  const kept = fields.config?.text ? redactConfigText(fields.config.text, fields.config.syntax ?? 'none') : null;
  if (kept?.method === 'dropped') {
    warnings.push(`${fields.config?.file ?? 'config'}: text not kept (it does not parse, so it cannot be checked for secrets)`);
  } else if (kept?.method === 'reserialised') {
    warnings.push(`${fields.config?.file ?? 'config'}: text re-written from the redacted values (secrets could not be replaced in place; comments dropped)`);
  }
  for (const secret of [...redactedFields.secrets, ...(kept?.secrets ?? [])]) {
    secrets.add(secret);
  }
  const explicit = identity.explicit ? findUuid(identity.explicit) : findUuid(lastSegment(listing.dir));
  const basis = explicit ? 'explicit' : identity.content ? 'content' : 'location';
  // A secret found anywhere (a config value, a shape in a log line) is scrubbed from every other field it was copied to.
  const content = scrubSecrets(
    {
      ...emptyFields(),
      ...redactedFields.value,
      config: {
        file: fields.config?.file ?? null,
        syntax: fields.config?.syntax ?? 'none',
        text: kept?.text?.slice(0, MAX_CONFIG_TEXT) ?? null,
        values,
      },
      parse_warnings: warnings.map(redactString),
    },
    secrets,
  );
  const candidate = {
    ...content,
    run_id: explicit ?? uuidV5(basis === 'content' ? `${format}:content:${identity.content}` : `location:${root.name}:${listing.dir}`),
    run_id_basis: basis,
    source: sourceRef(root, listing.dir),
    format,
    config_hash: configHash(content.config.values),
    fingerprint: listingFingerprint(listing.dir, listing.entries),
    parser_version: PARSER_VERSION,
  };
  Object.assign(candidate, createdAt(candidate, listing));
  const parsed = RunRecord.safeParse(candidate);
  if (parsed.success) {
    return parsed.data;
  }
  return parseErrorRecord({
    format,
    root,
    listing,
    file: listing.dir || '.',
    message: `record invalid: ${z.prettifyError(parsed.error)}`,
    warnings: input.warnings,
  });
}

export interface ParseErrorInput {
  format: FormatId;
  root: RootInfo;
  listing: DirListing;
  file: string;
  message: string;
  warnings?: readonly string[];
}

/** The record of a run that could not be read: searchable, with the file and the problem. Identity from the location. */
export function parseErrorRecord(input: ParseErrorInput): RunRecord {
  const { format, root, listing } = input;
  const message = redactString(input.message).slice(0, 2000);
  const explicit = findUuid(lastSegment(listing.dir));
  return RunRecord.parse({
    ...emptyFields(),
    run_id: explicit ?? uuidV5(`location:${root.name}:${listing.dir}`),
    run_id_basis: explicit ? 'explicit' : 'location',
    source: sourceRef(root, listing.dir),
    format,
    status: 'parse_error',
    status_evidence: `parse error in ${input.file}`,
    parse_error: { file: input.file, message },
    ...createdAt({ created_at: null, created_at_source: null, started_at: null }, listing),
    fingerprint: listingFingerprint(listing.dir, listing.entries),
    parse_warnings: (input.warnings ?? []).map(redactString),
    parser_version: PARSER_VERSION,
  });
}

export function sourceRef(root: RootInfo, dir: string): RunRecord['source'] {
  return { kind: root.kind, root: root.name, path: dir, uri: dir === '' ? root.uri : `${root.uri}/${dir}` };
}

/** Every optional field of a record, empty: the base that adapters' drafts are laid over. */
export function emptyFields(): Omit<RunRecord, 'run_id' | 'run_id_basis' | 'source' | 'format' | 'fingerprint' | 'parser_version'> {
  return {
    run_kind: 'training',
    status: 'unknown',
    status_evidence: 'no evidence',
    status_inputs: null,
    parse_error: null,
    base_model: null,
    base_model_family: null,
    lora_rank: null,
    lora_alpha: null,
    learning_rate: null,
    learning_rate_source: null,
    learning_rates: {},
    batch_size: null,
    epochs: null,
    total_steps: null,
    optimizer: null,
    resolution: null,
    network_module: null,
    target_modules: [],
    data_dir: null,
    dataset_dirs: [],
    tag_summary: [],
    prompt_example: null,
    prompts: [],
    tags: [],
    notes: null,
    output_dir: null,
    output_name: null,
    started_at: null,
    finished_at: null,
    created_at: null,
    created_at_source: null,
    loss_final: null,
    loss_min: null,
    best_epoch: null,
    best_checkpoint: null,
    loss_per_epoch: [],
    loss_source: 'none',
    eval_metrics: {},
    artifacts: [],
    config: { file: null, syntax: 'none', text: null, values: {} },
    config_hash: null,
    parse_warnings: [],
  };
}

// --- internal ---

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as Array<keyof T>) {
    if (value[key] !== undefined) {
      out[key] = value[key];
    }
  }
  return out;
}

type CreatedAt = Pick<RunRecord, 'created_at' | 'created_at_source'>;

/**
 * created_at and its source: the adapter's own (a draft that sets started_at names where it came from in
 * created_at_source), else the earliest file mtime, marked 'mtime' so nobody mistakes it for the start.
 */
function createdAt(draft: CreatedAt & Pick<RunRecord, 'started_at'>, listing: DirListing): CreatedAt {
  if (draft.created_at) {
    return { created_at: draft.created_at, created_at_source: draft.created_at_source };
  }
  if (draft.started_at) {
    return { created_at: draft.started_at, created_at_source: draft.created_at_source };
  }
  const mtime = earliestMtime(listing);
  return { created_at: mtime, created_at_source: mtime === null ? null : 'mtime' };
}

function earliestMtime(listing: DirListing): string | null {
  let min = Number.POSITIVE_INFINITY;
  for (const entry of listing.entries) {
    min = Math.min(min, entry.mtime);
  }
  return Number.isFinite(min) ? new Date(min).toISOString() : null;
}

function lastSegment(dir: string): string {
  return dir.slice(dir.lastIndexOf('/') + 1);
}
