import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { listZip, readZipEntry } from '../../../../../src/formats/common/zip-buffer.ts';
import { parseTrainingArgsBin } from '../../../../../src/formats/common/hf-trainer/training-args-bin.ts';
import { REPO_ROOT } from '../../../../helpers/crawl.ts';

/** Written by test/fixtures/training-args/make-training-args.py the way torch.save writes them. */
const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/training-args');

const fixture = (name: string) => Uint8Array.from(readFileSync(path.join(FIXTURES, name)));

describe('src/formats/common/hf-trainer/training-args-bin', () => {
  it('reads the TrainingArguments of a torch.save zip: enums as values, other objects as inert markers', () => {
    const parsed = parseTrainingArgsBin(fixture('training_args.bin'));

    expect(parsed.ok).toBe(true);
    const { cls, values } = parsed.ok ? parsed.value : { cls: '', values: {} };
    expect(cls).toBe('transformers.training_args.TrainingArguments');
    expect(values).toMatchObject({
      learning_rate: 0.0002,
      optim: 'adamw_torch',
      lr_scheduler_type: 'cosine',
      eval_strategy: 'steps',
      save_strategy: 'steps',
      hub_strategy: 'every_save',
      num_train_epochs: 3,
      per_device_train_batch_size: 4,
      gradient_accumulation_steps: 8,
      max_steps: -1,
      seed: 42,
      data_seed: 1099511627776,
      adam_epsilon: 1e-8,
      report_to: ['tensorboard'],
      fsdp_config: { min_num_params: 0, xla: false, xla_fsdp_v2: false, xla_fsdp_grad_ckpt: false },
      __cached__setup_devices: { $python: 'torch.device', args: ['cuda', 0] },
      accelerator_config: { $python: 'transformers.trainer_pt_utils.AcceleratorConfig' },
      distributed_state: { $python: 'accelerate.state.PartialState' },
    });
    expect(Object.keys(values)).toHaveLength(95);
  });

  it('reads a subclass (Seq2SeqTrainingArguments) and the pre-1.6 torch format of four pickles in a row', () => {
    const seq2seq = parseTrainingArgsBin(fixture('seq2seq-hub-token.bin'));
    const legacy = parseTrainingArgsBin(fixture('legacy-format.bin'));

    expect(seq2seq.ok && [seq2seq.value.cls, seq2seq.value.values.hub_model_id]).toEqual([
      'transformers.training_args_seq2seq.Seq2SeqTrainingArguments',
      'me/qwen-lora',
    ]);
    expect(legacy.ok && [legacy.value.values.learning_rate, legacy.value.values.optim]).toEqual([0.00005, 'paged_adamw_8bit']);
  });

  it('finds <name>/data.pkl among the records and skips the local-header padding torch adds', () => {
    const bytes = fixture('training_args.bin');

    const entries = listZip(bytes);

    expect(entries.map((e) => [e.name, e.method])).toEqual([
      ['training_args/data.pkl', 0],
      ['training_args/.format_version', 0],
      ['training_args/.storage_alignment', 0],
      ['training_args/byteorder', 0],
      ['training_args/version', 0],
      ['training_args/.data/serialization_id', 0],
    ]);
    expect(new TextDecoder().decode(readZipEntry(bytes, entries[4] as (typeof entries)[number], 1024))).toBe('3\n');
  });

  it('follows the zip64 end record when the classic one holds the 0xFFFF / 0xFFFFFFFF markers (large torch archives)', () => {
    const bytes = fixture('training_args.bin');
    const eocd = bytes.length - 22;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    view.setUint16(eocd + 8, 0xffff, true);
    view.setUint16(eocd + 10, 0xffff, true);
    view.setUint32(eocd + 16, 0xffffffff, true);

    const parsed = parseTrainingArgsBin(bytes);

    expect(listZip(bytes)).toHaveLength(6);
    expect(parsed.ok && parsed.value.values.optim).toBe('adamw_torch');
  });

  it('reads a deflated data.pkl and caps what it inflates', () => {
    const pkl = readZipEntry(fixture('training_args.bin'), listZip(fixture('training_args.bin'))[0] as ReturnType<typeof listZip>[number], 1 << 20);
    const zip = zipOf('args/data.pkl', deflateRawSync(pkl), pkl.length, 8);

    const parsed = parseTrainingArgsBin(zip);

    expect(parsed.ok && parsed.value.values.learning_rate).toBe(0.0002);
    expect(() => readZipEntry(zip, listZip(zip)[0] as ReturnType<typeof listZip>[number], 100)).toThrow(/exceeds the 100-byte cap/);
  });

  it.each([
    ['a Git LFS pointer', new TextEncoder().encode('version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 4411\n'), /Git LFS pointer/],
    ['a truncated archive', fixture('training_args.bin').subarray(0, 600), /not a zip archive/],
    ['a zip without data.pkl', zipOf('archive/version', new TextEncoder().encode('3\n'), 2, 0), /no <name>\/data\.pkl record/],
    ['a pickle of a plain list', zipOf('a/data.pkl', Uint8Array.from([0x80, 2, 0x5d, 0x2e]), 4, 0), /no object with a field dict/],
    ['a pickle that is not torch.save output', Uint8Array.from([0x80, 2, 0x4e, 0x2e]), /not a torch.save file/],
    ['random bytes', Uint8Array.from([1, 2, 3]), /neither a torch zip archive nor a pickle/],
  ])('reports %s as a message, never a throw', (_, bytes, message) => {
    const parsed = parseTrainingArgsBin(bytes);

    expect(parsed.ok ? 'parsed' : parsed.message).toMatch(message);
  });
});

// --- internal ---

/** A one-entry zip (no data descriptor), enough to test methods and missing records. */
function zipOf(name: string, data: Uint8Array, size: number, method: number): Uint8Array {
  const nameBytes = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(method, 8);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(method, 10);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt32LE(0, 42);
  const dirOffset = local.length + nameBytes.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + nameBytes.length, 12);
  end.writeUInt32LE(dirOffset, 16);
  return Uint8Array.from(Buffer.concat([local, nameBytes, data, central, nameBytes, end]));
}
