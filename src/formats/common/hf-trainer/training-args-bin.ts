import { objectState, type Plain } from '../pickle-plain.ts';
import { readPickleAt, type PyValue } from '../pickle.ts';
import { listZip, readZipEntry, ZipError } from '../zip-buffer.ts';
import type { ParseResult } from '../../kit/result.ts';

export interface TrainingArgsBin {
  /** `module.qualname` of the pickled arguments (`transformers.training_args.TrainingArguments`, TRL's `SFTConfig`…). */
  cls: string;
  /** Its fields; enums as their value, other objects as `{ $python: 'module.Class' }` markers. Not yet redacted. */
  values: Record<string, Plain>;
}

/** `torch.save(args)` of a TrainingArguments is a few KB; anything much larger is not one. */
export const MAX_TRAINING_ARGS_BIN_BYTES = 4 * 1024 * 1024;

/** Cap on the pickle inside the archive. */
export const MAX_TRAINING_ARGS_PKL_BYTES = 1024 * 1024;

/**
 * Parses a `training_args.bin` (`torch.save(args)`: a zip holding `<name>/data.pkl`, or the pre-1.6 format of
 * four pickles in a row) without executing anything. Never throws.
 */
export function parseTrainingArgsBin(bytes: Uint8Array): ParseResult<TrainingArgsBin> {
  try {
    const pickle = pickleBytes(bytes);
    const limits = { maxBytes: MAX_TRAINING_ARGS_PKL_BYTES, maxOps: 200_000 };
    const value = pickle.legacy ? legacyObject(pickle.bytes, limits) : readPickleAt(pickle.bytes, 0, limits).value;
    const object = objectState(value, { isEnum: isTransformersEnum });
    if (object === null) {
      return { ok: false, message: 'the pickle holds no object with a field dict (not a TrainingArguments)' };
    }
    return { ok: true, value: { cls: object.cls, values: object.state } };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

/** transformers' str enums (`ExplicitEnum` subclasses) a TrainingArguments holds, by class name; their module moved between versions. */
const TRANSFORMERS_ENUMS = new Set([
  'SchedulerType',
  'OptimizerNames',
  'IntervalStrategy',
  'EvaluationStrategy',
  'SaveStrategy',
  'HubStrategy',
  'FSDPOption',
  'ShardedDDPOption',
  'DebugOption',
  'PaddingStrategy',
  'TensorType',
]);

export function isTransformersEnum(cls: string): boolean {
  return cls.startsWith('transformers.') && TRANSFORMERS_ENUMS.has(cls.slice(cls.lastIndexOf('.') + 1));
}

// --- internal ---

const LFS_PREFIX = 'version https://git-lfs.github.com/spec/v1';

/** The first pickle of a legacy torch file: the magic number 0x1950a86a20f9469cfc6c. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function pickleBytes(bytes: Uint8Array): { bytes: Uint8Array; legacy: boolean } {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    const entries = listZip(bytes);
    // torch names every record `<archive name>/<record>`; the archive name is the file's stem.
    const entry = entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.name)) ?? entries.find((e) => e.name === 'data.pkl');
    if (!entry) {
      throw new ZipError(`no <name>/data.pkl record among ${entries.length} entries`);
    }
    return { bytes: readZipEntry(bytes, entry, MAX_TRAINING_ARGS_PKL_BYTES), legacy: false };
  }
  if (bytes[0] === 0x80) {
    return { bytes, legacy: true };
  }
  if (new TextDecoder().decode(bytes.subarray(0, LFS_PREFIX.length)) === LFS_PREFIX) {
    throw new Error('a Git LFS pointer, not the file');
  }
  throw new Error('neither a torch zip archive nor a pickle');
}

/** torch < 1.6: pickles of the magic number, the protocol version and sys info, then the object. */
function legacyObject(bytes: Uint8Array, limits: { maxBytes: number; maxOps: number }): PyValue {
  const magic = readPickleAt(bytes, 0, limits);
  if (magic.value !== LEGACY_MAGIC) {
    throw new Error('a pickle, but not a torch.save file (no magic number)');
  }
  const version = readPickleAt(bytes, magic.end, limits);
  const sysInfo = readPickleAt(bytes, version.end, limits);
  return readPickleAt(bytes, sysInfo.end, limits).value;
}
