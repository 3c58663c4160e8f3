import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import { durationMs, type ElasticsearchConfig } from '../config/schema.ts';

/** An Elasticsearch client for a cluster URL and the config's auth/TLS settings (8.19 client: also talks to 9.x via REST compatibility). */
export function createEsClient(url: string, config: Partial<ElasticsearchConfig> = {}): Client {
  const options: ClientOptions = {
    node: url,
    requestTimeout: config.request_timeout ? durationMs(config.request_timeout) : 30_000,
    maxRetries: 3,
  };
  if (config.api_key) {
    options.auth = { apiKey: config.api_key };
  } else if (config.username && config.password) {
    options.auth = { username: config.username, password: config.password };
  }
  if (config.ca_cert) {
    options.tls = { ca: readFileSync(config.ca_cert, 'utf8') };
  }
  return new Client(options);
}
