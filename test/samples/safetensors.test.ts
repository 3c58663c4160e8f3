import { open } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { parsePyLiteral } from '../../src/formats/common/py-literal.ts';
import { readSafetensorsHeader, type RangeReader } from '../../src/formats/common/safetensors.ts';
import { parseTolerantJson } from '../../src/text/tolerant-json.ts';
import type { ByteRange } from '../../src/sources/types.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const samples = path.resolve(repoRoot, '..', 'shared', 'samples', 'real');
const LOKR = path.join(samples, 'kohya_safetensors/KohakuBlueleaf__LyCORIS/result/smart_falcon_4_lokr.safetensors');

// Expected values were read from the file with an independent Python script (struct + json).
describe('samples: formats/common/safetensors', () => {
  it('reads the kohya LoKr header with two ranged reads that stop at 8 + N', async () => {
    const reads: ByteRange[] = [];

    const result = await readSafetensorsHeader(fileReader(LOKR, reads), 647_722);

    expect(result.ok).toBe(true);
    if (!result.ok) {
      return;
    }
    expect(result.headerBytes).toBe(244_262);
    expect(result.tensorCount).toBe(1750);
    expect(Object.keys(result.metadata ?? {})).toHaveLength(61);
    expect(reads).toEqual([
      { start: 0, end: 65_536 },
      { start: 65_536, end: 244_270 },
    ]);
    expect(result.metadata).toMatchObject({
      ss_network_dim: '4',
      ss_network_alpha: '4.0',
      ss_session_id: '2097167670',
      ss_resolution: '(768, 768)',
      ss_network_module: 'lycoris.kohya',
      ss_network_args: '{"conv_rank": "4", "conv_alpha": "4", "algo": "lokr"}',
      ss_optimizer: 'lion_pytorch.lion_pytorch.Lion(weight_decay=0.1)',
      ss_output_name: 'smart_falcon_lokr_3.0e-4',
      ss_training_started_at: '1680716500.7709305',
      ss_clip_skip: 'None',
      ss_epoch: '10',
      ss_num_epochs: '10',
      ss_sd_scripts_commit_hash: '8eb60baf3a920fb83a862d95fbfc73d1d19b7b31',
      sshs_legacy_hash: 'e3b0c442',
      ss_training_comment: 'trigger word is smart falcon \\(umamusume\\)',
    });
  });

  it('decodes the Python and JSON encodings inside the metadata', async () => {
    const result = await readSafetensorsHeader(fileReader(LOKR), 647_722);
    const meta = result.ok ? (result.metadata ?? {}) : {};

    expect(parsePyLiteral(meta.ss_resolution ?? '')).toEqual([768, 768]);
    expect(parsePyLiteral(meta.ss_network_alpha ?? '')).toBe(4);
    expect(parsePyLiteral(meta.ss_learning_rate ?? '')).toBe(0.0003);
    expect(parsePyLiteral(meta.ss_clip_skip ?? '')).toBeNull();
    expect(parsePyLiteral(meta.ss_gradient_checkpointing ?? '')).toBe(true);
    expect(parsePyLiteral(meta.ss_optimizer ?? '')).toBeUndefined();
    expect(parseTolerantJson(meta.ss_dataset_dirs ?? '')).toEqual({
      ok: true,
      nonFinite: 0,
      value: {
        '16_smf girl': { n_repeats: 16, img_count: 43 },
        '4_smf girl': { n_repeats: 4, img_count: 45 },
        '8_smf girl': { n_repeats: 8, img_count: 42 },
      },
    });
  });
});

// --- internal ---

function fileReader(file: string, log: ByteRange[] = []): RangeReader {
  return async (range) => {
    log.push(range);
    const handle = await open(file, 'r');
    try {
      const buffer = new Uint8Array(range.end - range.start);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, range.start);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  };
}
