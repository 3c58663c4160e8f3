import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { crawl, REPO_ROOT } from '../../helpers/crawl.ts';

const LAYOUTS = path.join(REPO_ROOT, 'test', 'fixtures', 'layouts');

describe('record: created_at_source over every adapter', () => {
  it.each([
    // kohya: ss_training_started_at of the weights' metadata, else the first loss event's wall time.
    ['kohya', 'gui/proj/model', 'ss_training_started_at', '2024-03-01T10:15:00.500Z'],
    ['kohya', 'logonly/tb/sketch20240301101500', 'tfevents-wall-time', '2024-03-01T10:15:10.500Z'],
    ['kohya', 'bad/truncated-header', 'mtime', null],
    // HF Trainer/PEFT: the unix time in the first event file's name (events.out.tfevents.1735787045.…).
    ['hf-peft', 'completed', 'tfevents-file-name', '2025-01-02T03:04:05.000Z'],
    ['hf-peft', 'checkpoints-only', 'mtime', null],
    // LLaMA-Factory: running_log.txt's first stamp; CLI runs: trainer_log.jsonl mtime minus its elapsed time.
    ['llama-factory', 'webui/saves/Qwen2.5-0.5B/lora/train_2025-01-02-03-04-05', 'log-timestamp', '2025-01-02T03:04:10.000Z'],
    ['llama-factory', 'cli-aborted', 'log-elapsed', undefined],
  ])('%s %s: created_at from %s', async (format, dir, source, startedAt) => {
    const records = await crawl(path.join(LAYOUTS, format));

    const record = records.find((r) => r.source.path === dir);

    expect(record?.created_at_source).toBe(source);
    expect(record?.created_at).not.toBeNull();
    if (source !== 'mtime') {
      expect(record?.created_at).toBe(record?.started_at);
    }
    if (startedAt !== undefined) {
      expect(record?.started_at).toBe(startedAt);
    }
  });

  it('lora-scripts-yaml: the first time stamp of the training log, else mtime', async () => {
    const records = await crawl(path.join(REPO_ROOT, 'examples'));

    const bySource = Object.fromEntries(records.map((r) => [r.source.path, [r.created_at_source, r.started_at]]));

    expect(bySource['runs/2025-03-02-cyberpunk-city-r8']).toEqual(['log-timestamp', '2025-03-02T09:00:00.000Z']);
    expect(bySource['runs/2025-07-14-broken-config']).toEqual(['mtime', null]);
  });
});
