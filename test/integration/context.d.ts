declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the run's Elasticsearch, e.g. `http://127.0.0.1:41234`. */
    esUrl: string;
    /** Base URL of the run's S3Mock (plain HTTP, path-style). */
    s3Endpoint: string;
  }
}

export {};
