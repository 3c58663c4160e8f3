import { execFile } from 'node:child_process';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_INCOMPLETE_LISTING, syncCommand } from '../../src/cli/sync.ts';
import { applyIndices } from '../../src/es/indices.ts';
import { createBulkWriter } from '../../src/es/bulk.ts';
import { rejectedDocFactory, toRunDoc } from '../../src/sync/doc.ts';
import { DEPTH_MARKER, MAX_EPOCH_POINTS } from '../../src/sync/doc-bounds.ts';
import { runSync } from '../../src/sync/run.ts';
import { crawl } from '../helpers/crawl.ts';
import { createTestApp, type TestApp } from './app-context.ts';
import { captureIo } from './cli-io.ts';

const run = promisify(execFile);
let app: TestApp | undefined;

afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

async function allDocs(t: TestApp): Promise<Map<string, Record<string, unknown>>> {
  await t.ctx.client.indices.refresh({ index: t.config.indices.runs });
  const res = await t.ctx.client.search<Record<string, unknown>>({ index: t.config.indices.runs, size: 1000, sort: [{ run_id: 'asc' }] });
  return new Map(res.hits.hits.map((h) => [h._id as string, h._source ?? {}]));
}

function byPath(docs: Map<string, Record<string, unknown>>, runPath: string): Record<string, unknown> {
  const found = [...docs.values()].find((d) => (d.source as { path: string }).path === runPath);
  if (!found) {
    throw new Error(`no document for ${runPath}`);
  }
  return found;
}

/** An HF Trainer/PEFT run as the Trainer writes it, with `log_history` of one entry per epoch. */
async function writeHfRun(dir: string, opts: { epochs: number; adapterExtra?: unknown }): Promise<void> {
  await mkdir(dir, { recursive: true });
  const adapter = {
    base_model_name_or_path: 'Qwen/Qwen2.5-0.5B-Instruct',
    peft_type: 'LORA',
    r: 8,
    lora_alpha: 16,
    target_modules: ['q_proj'],
    task_type: 'CAUSAL_LM',
    ...(opts.adapterExtra === undefined ? {} : { extra: opts.adapterExtra }),
  };
  await writeFile(path.join(dir, 'adapter_config.json'), JSON.stringify(adapter));
  const history = Array.from({ length: opts.epochs }, (_, i) => ({ epoch: i + 1, learning_rate: 0.0002, loss: 2 / (i + 1), step: i + 1 }));
  await writeFile(
    path.join(dir, 'trainer_state.json'),
    JSON.stringify({ epoch: opts.epochs, global_step: opts.epochs, max_steps: opts.epochs, num_train_epochs: opts.epochs, log_history: history }),
  );
  await writeFile(path.join(dir, 'adapter_model.safetensors'), Buffer.alloc(16));
}

function nestedDeep(levels: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < levels; i++) {
    value = { n: value };
  }
  return value;
}

describe('sync: runs the engine would refuse (real Elasticsearch)', () => {
  it('a 12,000-epoch run and a 1,500-deep JSON config become documents, and a second sync leaves them unchanged', async () => {
    app = await createTestApp({ from: null });
    await writeHfRun(path.join(app.root, 'many-epochs'), { epochs: 12_000 });
    await writeHfRun(path.join(app.root, 'deep-config'), { epochs: 2, adapterExtra: nestedDeep(1500) });

    const first = await runSync(app.ctx, { mode: 'full' });

    expect(first.errors).toEqual([]);
    expect(first.counts).toMatchObject({ found: 2, new: 2, failed: 0, written: 2 });
    const docs = await allDocs(app);
    const epochs = byPath(docs, 'many-epochs');
    expect(epochs.loss_per_epoch_count).toBe(12_000);
    expect((epochs.loss_per_epoch as unknown[]).length).toBeLessThanOrEqual(MAX_EPOCH_POINTS);
    expect((epochs.loss_per_epoch as Array<{ epoch: number }>).at(-1)?.epoch).toBe(12_000);
    expect(String(epochs.parse_warnings)).toMatch(/downsampled from 12000/);
    const deep = byPath(docs, 'deep-config');
    expect(JSON.stringify((deep.config as { values: unknown }).values)).toContain(DEPTH_MARKER);
    expect(deep.lora_rank).toBe(8);
    expect(String(deep.parse_warnings)).toMatch(/nested deeper than 64 levels/);

    const second = await runSync(app.ctx, { mode: 'full' });

    expect(second.counts).toMatchObject({ found: 2, unchanged: 2, written: 0, failed: 0 });
  });

  it('writes the run as a parse_error document with the engine reason when the engine still refuses it, once', async () => {
    app = await createTestApp({ from: null });
    await writeHfRun(path.join(app.root, 'run'), { epochs: 2 });
    await applyIndices(app.ctx.client, app.config);
    const [record] = await crawl(app.root);
    const doc = toRunDoc(
      { ...(record as NonNullable<typeof record>), source: { kind: 'fs', root: 'local', path: 'run', uri: `${app.root}/run` } },
      { now: new Date(), firstSeenAt: null },
    );
    const writer = createBulkWriter({ client: app.ctx.client, index: app.config.indices.runs, flushBytes: 1 << 20, concurrency: 1, retries: 0 });

    // A field the strict mapping does not know: the engine answers 400 strict_dynamic_mapping_exception.
    await writer.add({ op: 'index', id: doc.run_id, doc: { ...doc, not_in_mapping: 1 }, fallback: rejectedDocFactory(doc) });
    const stats = await writer.flush();

    expect(stats).toMatchObject({ written: 1, failed: [] });
    expect(stats.replaced).toHaveLength(1);
    expect(stats.replaced[0]).toMatchObject({ id: doc.run_id, status: 400 });
    const stored = byPath(await allDocs(app), 'run');
    expect(stored).toMatchObject({
      status: 'parse_error',
      fingerprint: doc.fingerprint,
      parser_version: doc.parser_version,
      source: doc.source,
      state: 'active',
    });
    expect((stored.parse_error as { message: string }).message).toMatch(/^rejected by Elasticsearch: strict_dynamic_mapping_exception/);
  });
});

describe('sync: file names and special files (real Elasticsearch)', () => {
  it('a non-UTF-8 file name keeps the listing complete, so a removed run is marked vanished (exit 0)', async () => {
    app = await createTestApp();
    const dir = path.join(app.root, '2025-03-02-cyberpunk-city-r8');
    await writeFile(Buffer.concat([Buffer.from(`${dir}/notes-`), Buffer.from([0xe9, 0xff]), Buffer.from('.txt')]), 'latin-1');
    const io = captureIo();

    const firstCode = await syncCommand(app.ctx, { options: { mode: 'full' }, rollups: false, example: false }, io);
    await rm(path.join(app.root, '2025-04-11-ink-wash-landscape-r16'), { recursive: true });
    const report = await runSync(app.ctx, { mode: 'full' });

    expect(firstCode).toBe(0);
    expect(io.out.join('\n')).toMatch(/listed completely/);
    expect(report.sources[0]).toMatchObject({ complete: true, warnings: 0 });
    expect(report.counts.vanished).toBe(1);
  });

  it('a config that is a symlink to a FIFO does not hang the sync (it used to block a read forever)', async () => {
    app = await createTestApp();
    app.ctx.config.sources = [{ ...(app.ctx.config.sources[0] as (typeof app.ctx.config.sources)[number] & { kind: 'fs' }), follow_symlinks: true }];
    const city = path.join(app.root, '2025-03-02-cyberpunk-city-r8');
    await run('mkfifo', [path.join(city, 'pipe')]);
    await rm(path.join(city, 'config.yaml'));
    await symlink('pipe', path.join(city, 'config.yaml'));
    const started = Date.now();

    const report = await runSync(app.ctx, { mode: 'full' });

    expect(Date.now() - started).toBeLessThan(30_000);
    expect(report.counts.failed).toBe(0);
    expect(report.sources[0]).toMatchObject({ complete: true });
  });

  it('a root that cannot be listed completely says so and exits 6', async () => {
    app = await createTestApp();
    app.ctx.config.sources = [{ ...(app.ctx.config.sources[0] as (typeof app.ctx.config.sources)[number] & { kind: 'fs' }), follow_symlinks: true }];
    await symlink('nowhere', path.join(app.root, 'dangling'));
    const io = captureIo();

    const code = await syncCommand(app.ctx, { options: { mode: 'full' }, rollups: false, example: false }, io);

    expect(code).toBe(EXIT_INCOMPLETE_LISTING);
    expect(io.out.join('\n')).toMatch(/source local was not listed completely, so runs missing from it were NOT marked vanished/);
  });
});
