import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { discoverRuns } from '../../../src/sync/discover.ts';
import { adapters } from '../../../src/formats/index.ts';
import { parseRun } from '../../../src/formats/parse-run.ts';
import { memoryDriver } from '../../helpers/memory-driver.ts';

/** One folder layout per format: the files its adapter detects and reads. Contents come from fast-check. */
const LAYOUTS: Record<string, string[]> = {
  'lora-scripts-yaml': ['run/config.yaml', 'run/logs/train.log', 'run/pytorch_lora_weights.safetensors'],
  kohya: [
    'out/config_lora-20250101-120000.toml',
    'out/dataset.toml',
    'out/style.safetensors',
    'out/style-000001.safetensors',
    'out/sample_prompts.txt',
    'out/logs/style20250101120000/network_train/events.out.tfevents.1735732800.host.1.0',
  ],
  'hf-peft': [
    'run/adapter_config.json',
    'run/trainer_state.json',
    'run/all_results.json',
    'run/checkpoint-10/trainer_state.json',
    'run/runs/Mar24_22-23-40_host/events.out.tfevents.1742826235.host.1.0',
  ],
  'llama-factory': ['run/training_args.yaml', 'run/trainer_log.jsonl', 'run/running_log.txt', 'run/train_results.json', 'run/adapter_config.json'],
};

/** Random bytes, or random text with the characters that parsers care about. */
const content = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc
    .string({ unit: fc.constantFrom(...'{}[]":,=\n\r\t #-.0123456789eENaIfinity&*!|>\'abc_loss步'.split('')), maxLength: 400 })
    .map((s) => new TextEncoder().encode(s)),
);

describe('formats (property): random bytes in every file of every layout', () => {
  it.each(Object.entries(LAYOUTS))(
    '%s: never throws, always yields a record of the one run, naming a layout file on parse errors',
    async (format, files) => {
      const dir = files[0]!.split('/')[0]!;

      await fc.assert(
        fc.asyncProperty(fc.tuple(...files.map(() => content)), async (contents) => {
          const driver = memoryDriver(Object.fromEntries(files.map((name, i) => [name, contents[i] as Uint8Array])));
          const root = { name: 'fuzz', kind: 'fs' as const, uri: '/fuzz' };

          const found: { dir: string; adapters: string[] }[] = [];
          const records = [];
          for await (const item of discoverRuns(driver, '', adapters)) {
            if (item.kind === 'warning') {
              continue;
            }
            found.push({ dir: item.listing.dir, adapters: item.adapters.map((a) => a.id) });
            // parseRun validates through RunRecord itself; what is left to check is that it resolves at all.
            records.push(await parseRun(item, { driver, root, now: new Date('2026-01-01T00:00:00Z') }));
          }

          expect(found).toEqual([{ dir, adapters: [format] }]);
          expect(records).toHaveLength(1);
          const record = records[0]!;
          expect(record).toMatchObject({ format, source: { kind: 'fs', root: 'fuzz', path: dir, uri: `/fuzz/${dir}` } });
          if (record.status === 'parse_error') {
            expect([dir, ...files]).toContain(record.parse_error?.file);
          } else {
            expect(record.parse_error).toBeNull();
          }
        }),
        { numRuns: 60, interruptAfterTimeLimit: 20_000 },
      );
    },
    60_000,
  );
});
