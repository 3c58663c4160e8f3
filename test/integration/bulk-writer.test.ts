import { Client } from '@elastic/elasticsearch';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createBulkWriter, type BulkWriterOptions } from '../../src/es/bulk.ts';
import { startBulkFaultProxy, type BulkFault, type BulkFaultProxy, type BulkItem } from './es-bulk-fault-proxy.ts';
import { deleteIndexQuietly, esClient, uniqueName } from './helpers.ts';

const es = esClient();
let index = '';
let proxy: BulkFaultProxy | undefined;
let proxied: Client | undefined;

beforeEach(async () => {
  index = uniqueName('bulk-writer');
  await es.indices.create({ index, mappings: { dynamic: 'strict', properties: { name: { type: 'keyword' }, n: { type: 'integer' } } } });
});

afterEach(async () => {
  await proxied?.close();
  await proxy?.close();
  proxy = undefined;
  proxied = undefined;
  await deleteIndexQuietly(es, index);
});

afterAll(async () => {
  await es.close();
});

describe('es/bulk (against the real engine)', () => {
  it('reports a conditional update on a document changed since it was read as a conflict: not written, not retried, not failed', async () => {
    await es.index({ index, id: 'moved', document: { name: 'first', n: 1 }, refresh: true });
    const read = await es.get({ index, id: 'moved' });
    await es.index({ index, id: 'moved', document: { name: 'changed meanwhile', n: 2 }, refresh: true });
    await es.index({ index, id: 'fresh', document: { name: 'fresh', n: 1 }, refresh: true });
    const fresh = await es.get({ index, id: 'fresh' });
    const writer = createBulkWriter(options(es));

    await writer.add({ op: 'update', id: 'moved', doc: { name: 'stale write' }, ifSeqNo: read._seq_no, ifPrimaryTerm: read._primary_term });
    await writer.add({ op: 'update', id: 'fresh', doc: { name: 'current write' }, ifSeqNo: fresh._seq_no, ifPrimaryTerm: fresh._primary_term });
    const stats = await writer.flush();

    expect(stats).toMatchObject({ conflicts: ['moved'], failed: [], written: 1, retries: 0, requests: 1 });
    expect(await sources(['moved', 'fresh'])).toEqual({ moved: { name: 'changed meanwhile', n: 2 }, fresh: { name: 'current write', n: 1 } });
  });

  it('reports an unconditional update of a missing document as failed, by id', async () => {
    const writer = createBulkWriter(options(es));

    await writer.add({ op: 'update', id: 'missing', doc: { name: 'x' } });
    const stats = await writer.flush();

    expect(stats.conflicts).toEqual([]);
    expect(stats.failed).toMatchObject([{ id: 'missing', status: 404, type: 'document_missing_exception' }]);
  });

  it('retries the items the engine refused with 429 until they are written, and only those', async () => {
    const refusedOnce = new Set(['b', 'd']);
    await startProxy((_n, items) => ({ items: new Map(items.filter((i) => refusedOnce.delete(i.id)).map((i) => [i.id, 429])) }));
    const writer = createBulkWriter(options(proxied as Client));

    for (const [n, id] of ['a', 'b', 'c', 'd', 'e'].entries()) {
      await writer.add({ op: 'index', id, doc: { name: id, n } });
    }
    const stats = await writer.flush();

    expect(stats).toMatchObject({ written: 5, indexed: 5, failed: [], conflicts: [], retries: 2, requests: 2 });
    expect(proxy?.bulks).toEqual([
      ['a', 'b', 'c', 'd', 'e'],
      ['b', 'd'],
    ]);
    expect(await sources(['a', 'b', 'c', 'd', 'e'])).toEqual({
      a: { name: 'a', n: 0 },
      b: { name: 'b', n: 1 },
      c: { name: 'c', n: 2 },
      d: { name: 'd', n: 3 },
      e: { name: 'e', n: 4 },
    });
  });

  it('retries a whole bulk request refused with 429', async () => {
    await startProxy((n) => (n === 1 ? { request: 429 } : null));
    const writer = createBulkWriter(options(proxied as Client));

    await writer.add({ op: 'index', id: 'a', doc: { name: 'a', n: 1 } });
    await writer.add({ op: 'index', id: 'b', doc: { name: 'b', n: 2 } });
    const stats = await writer.flush();

    expect(stats).toMatchObject({ written: 2, failed: [], retries: 2, requests: 2 });
    expect(proxy?.bulks).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(await sources(['a', 'b'])).toEqual({ a: { name: 'a', n: 1 }, b: { name: 'b', n: 2 } });
  });

  it('reports an item still refused after the last retry as failed with 429, and writes the rest', async () => {
    await startProxy((_n, items) => refuse(items, 'stuck'));
    const writer = createBulkWriter({ ...options(proxied as Client), retries: 2 });

    await writer.add({ op: 'index', id: 'ok', doc: { name: 'ok', n: 1 } });
    await writer.add({ op: 'index', id: 'stuck', doc: { name: 'stuck', n: 2 } });
    const stats = await writer.flush();

    expect(stats).toMatchObject({ written: 1, retries: 2, requests: 3 });
    expect(stats.failed).toMatchObject([{ id: 'stuck', status: 429, type: 'es_rejected_execution_exception' }]);
    expect(proxy?.bulks).toEqual([['ok', 'stuck'], ['stuck'], ['stuck']]);
    expect(await sources(['ok', 'stuck'])).toEqual({ ok: { name: 'ok', n: 1 } });
  });
});

// --- internal ---

function options(client: Client): BulkWriterOptions {
  return { client, index, flushBytes: 1024 * 1024, concurrency: 1, retries: 3, backoffMs: 5, refresh: true };
}

async function startProxy(fault: (n: number, items: BulkItem[]) => BulkFault): Promise<void> {
  proxy = await startBulkFaultProxy(inject('esUrl'), fault);
  // No transport retries: the writer's own retries are what is under test.
  proxied = new Client({ node: proxy.url, maxRetries: 0 });
}

function refuse(items: BulkItem[], id: string): BulkFault {
  return { items: new Map(items.filter((i) => i.id === id).map((i) => [i.id, 429])) };
}

/** The stored documents by id; missing ids are left out. */
async function sources(ids: string[]): Promise<Record<string, unknown>> {
  const { docs } = await es.mget<Record<string, unknown>>({ index, ids });
  return Object.fromEntries(docs.flatMap((d) => ('found' in d && d.found ? [[d._id, d._source]] : [])));
}
