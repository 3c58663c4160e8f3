import { randomBytes } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';

/** A client on the run's Elasticsearch (started by global-setup.ts), or on another engine a file started itself. */
export function esClient(url: string = inject('esUrl')): Client {
  return new Client({ node: url });
}

/** A client on the run's S3Mock: path-style, any credentials work. */
export function s3Client(): S3Client {
  return new S3Client({
    endpoint: inject('s3Endpoint'),
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

/** A lowercase name unique to this process and call, valid as an index or bucket name. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`.toLowerCase();
}

/** Deletes indices (names, aliases or patterns: aliases and patterns are resolved to the indices behind them) and ignores 404s, for `afterEach`. */
export async function deleteIndexQuietly(client: Client, index: string | string[]): Promise<void> {
  if (index.length === 0) {
    return;
  }
  const found = await client.indices.get({ index, ignore_unavailable: true, allow_no_indices: true, expand_wildcards: 'all' }, { ignore: [404] });
  const concrete = Object.keys(found ?? {}).filter((name) => !name.startsWith('error'));
  if (concrete.length === 0) {
    return;
  }
  await client.indices.delete({ index: concrete, ignore_unavailable: true, allow_no_indices: true }, { ignore: [404] });
}
