import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { ES_VERSION } from '../../src/engine/elasticsearch.ts';
import { deleteIndexQuietly, esClient, s3Client, uniqueName } from './helpers.ts';

describe('engine/elasticsearch', () => {
  const es = esClient();
  const created: string[] = [];

  afterEach(async () => {
    await deleteIndexQuietly(es, created.splice(0));
  });

  it('reports a green or yellow cluster', async () => {
    const health = await es.cluster.health();

    expect(['green', 'yellow']).toContain(health.status);
    expect(health.number_of_nodes).toBe(1);
  });

  it(`runs version ${ES_VERSION} with its modules`, async () => {
    const nodes = await es.nodes.info({ metric: 'plugins' });

    const [node] = Object.values(nodes.nodes);
    expect(node?.version).toBe(ES_VERSION);
    expect(node?.modules?.map((m) => m.name)).toEqual(expect.arrayContaining(['transport-netty4', 'x-pack-core']));
  });

  it('indexes and finds a document', async () => {
    const index = uniqueName('engine-test');
    created.push(index);

    await es.index({ index, id: 'run-1', document: { name: 'lora-a', rank: 16 }, refresh: 'wait_for' });
    const found = await es.search<{ name: string }>({ index, query: { term: { rank: 16 } } });

    expect(found.hits.hits.map((h) => h._source?.name)).toEqual(['lora-a']);
  });
});

describe('engine/s3mock', () => {
  const s3 = s3Client();
  const keys = ['runs/a.txt', 'runs/b.txt', 'runs/c.txt', 'runs/d.txt', 'runs/e.txt'];
  let bucket = '';

  afterEach(async () => {
    for (const Key of keys) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key })).catch(() => undefined);
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
  });

  it('pages ListObjectsV2 two keys at a time and serves byte ranges', async () => {
    bucket = uniqueName('engine-test');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const Key of keys) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: `content of ${Key}` }));
    }

    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 2, ContinuationToken: token }));
      pages.push((page.Contents ?? []).map((o) => o.Key ?? ''));
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    const ranged = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'runs/c.txt', Range: 'bytes=0-6' }));

    expect(pages).toEqual([keys.slice(0, 2), keys.slice(2, 4), keys.slice(4)]);
    expect(await ranged.Body?.transformToString()).toBe('content');
    expect(ranged.ContentRange).toBe('bytes 0-6/21');
  });
});
