// One-shot `hash` (not createHash): these inputs are small, and a Hash object per call costs more than the hashing.
import { hash } from 'node:crypto';
import type { SourceEntry } from '../sources/types.ts';

/** Namespace of every lora-catalog v5 UUID; never change it, or every run gets a new id. */
const RUN_NAMESPACE = '6f1d7b0e-3c1a-5f7e-9b2d-4c8a1e0f5d21';

/** Keys left out of config_hash: they differ between repeats of one experiment (paths, names, seeds, trackers). */
const RUN_SPECIFIC_KEYS =
  /^(output_dir|output_name|logging_dir|log_prefix|log_tracker_name|seed|run_name|run_id|resume.*|wandb.*|swanlab.*|hub_.*|push_to_hub|report_to|overwrite_output_dir|logging_steps|save_.*|sample_.*|tracker_.*|log_with|ddp_.*|dataloader_num_workers|preprocessing_num_workers)$/i;

const RUN_NAMESPACE_BYTES = Buffer.from(RUN_NAMESPACE.replaceAll('-', ''), 'hex');
const SCRATCH = Buffer.alloc(4096);

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/i;

/** RFC 4122 version-5 UUID of `name` in the lora-catalog namespace. */
export function uuidV5(name: string, namespace: string = RUN_NAMESPACE): string {
  const ns = namespace === RUN_NAMESPACE ? RUN_NAMESPACE_BYTES : Buffer.from(namespace.replaceAll('-', ''), 'hex');
  const size = ns.length + Buffer.byteLength(name, 'utf8');
  // Names are short: hashed from one reused buffer instead of a concatenation per id.
  const input = size <= SCRATCH.length ? SCRATCH : Buffer.alloc(size);
  ns.copy(input, 0);
  input.write(name, ns.length, 'utf8');
  const digest = hash('sha1', input.subarray(0, size), 'buffer');
  digest[6] = ((digest[6] ?? 0) & 0x0f) | 0x50;
  digest[8] = ((digest[8] ?? 0) & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The first UUID in a string (folder name, run-id file), lower-cased, or null. */
export function findUuid(text: string): string | null {
  const match = UUID.exec(text);
  return match ? match[0].toLowerCase() : null;
}

/**
 * Listing fingerprint: names, sizes and mtimes (or ETags) of every file of the run.
 * Equal fingerprints mean the run is unchanged without reading a byte of it.
 */
export function listingFingerprint(dir: string, entries: readonly SourceEntry[]): string {
  const prefix = dir === '' ? 0 : dir.length + 1;
  let text = '';
  for (const entry of entries) {
    text += `${entry.key.slice(prefix)}\u0000${entry.size}\u0000${entry.etag ?? Math.floor(entry.mtime)}\n`;
  }
  return hash('sha256', text, 'hex').slice(0, 32);
}

/** Hash of the training config without run-specific keys, so repeats of one experiment share it. */
export function configHash(values: Record<string, unknown>): string | null {
  const kept = Object.keys(values)
    .filter((key) => !RUN_SPECIFIC_KEYS.test(key))
    .sort();
  if (kept.length === 0) {
    return null;
  }
  const canonical = JSON.stringify(kept.map((key) => [key, normalise(values[key])]));
  return hash('sha256', canonical, 'hex').slice(0, 16);
}

// --- internal ---

function normalise(value: unknown): unknown {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    const asNumber = Number(trimmed);
    return trimmed !== '' && Number.isFinite(asNumber) ? asNumber : trimmed;
  }
  if (Array.isArray(value)) {
    return value.map(normalise);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, normalise((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
