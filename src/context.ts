import type { Client } from '@elastic/elasticsearch';
import type { Config } from './config/schema.ts';
import type { Logger } from './log.ts';

/** Everything a job needs; built once by the CLI or the scheduler, passed down explicitly. */
export interface AppContext {
  config: Config;
  client: Client;
  log: Logger;
  /** Injected clock (tests pin it). */
  now: () => Date;
  /** Aborted on SIGTERM: jobs finish or abandon the in-flight batch and return. */
  signal: AbortSignal;
}
