declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the run's Elasticsearch, e.g. `http://127.0.0.1:41234`. */
    esUrl: string;
    /** Process group of that Elasticsearch, for fault injection (SIGSTOP/SIGCONT); files run one at a time. */
    esPid: number;
    /** Base URL of the run's S3Mock (plain HTTP, path-style). */
    s3Endpoint: string;
  }
}

export {};
