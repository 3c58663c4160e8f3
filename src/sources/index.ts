// Storage sources: the driver contract (types.ts), the fs and s3 drivers (drivers/), the fs walk, key order, and this registry.
import path from 'node:path';
import { durationMs, type FsSourceConfig, type S3SourceConfig, type SourceConfig } from '../config/schema.ts';
import type { RootInfo } from './types.ts';
import { createFsDriver } from './drivers/fs.ts';
import { createS3Driver } from './drivers/s3.ts';
import type { SourceDriver } from './types.ts';

export type DriverName = SourceConfig['kind'];

/** A driver constructor; each takes its own options type (`never` accepts them all). */
export type DriverFactory = (opts: never) => SourceDriver;

/** One entry per file in `drivers/`; a unit test keeps the two in step. */
export const drivers = { fs: createFsDriver, s3: createS3Driver } satisfies Record<DriverName, DriverFactory>;

/** Drivers of configured sources by name, each created on first use and kept (SDK clients, read modes are per driver). */
export interface DriverCache {
  /** The driver of the source named `name`; `null` when no such source is configured. */
  get(name: string): SourceDriver | null;
  dispose(): Promise<void>;
}

export function createDriverCache(sources: readonly SourceConfig[]): DriverCache {
  const made = new Map<string, SourceDriver>();
  return {
    get(name) {
      const cached = made.get(name);
      if (cached) {
        return cached;
      }
      const source = sources.find((s) => s.name === name);
      if (!source) {
        return null;
      }
      const driver = createDriver(source);
      made.set(name, driver);
      return driver;
    },
    async dispose() {
      await Promise.all([...made.values()].map((d) => d.dispose?.()));
      made.clear();
    },
  };
}

/** The driver of a configured source root. A relative fs path resolves against the working directory. */
export function createDriver(config: SourceConfig, opts: { longListings?: boolean } = {}): SourceDriver {
  return config.kind === 'fs' ? fsDriver(config, opts.longListings ?? false) : s3Driver(config);
}

/** What parsers and records know about a root: name, kind and URI (absolute path or `s3://bucket/prefix`, no trailing slash). */
export function rootInfo(config: SourceConfig): RootInfo {
  if (config.kind === 'fs') {
    return { name: config.name, kind: 'fs', uri: trimSlash(path.resolve(config.path)) };
  }
  const prefix = config.prefix.replace(/^\/+|\/+$/g, '');
  return { name: config.name, kind: 's3', uri: prefix === '' ? `s3://${config.bucket}` : `s3://${config.bucket}/${prefix}` };
}

// --- internal ---

function fsDriver(config: FsSourceConfig, walkInWorker: boolean): SourceDriver {
  return drivers.fs({
    root: path.resolve(config.path),
    include: config.include,
    exclude: config.exclude,
    followSymlinks: config.follow_symlinks,
    io: config.io,
    walkInWorker,
    readTimeoutMs: durationMs(config.read_timeout),
  });
}

function s3Driver(config: S3SourceConfig): SourceDriver {
  return drivers.s3({
    bucket: config.bucket,
    prefix: config.prefix,
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: config.force_path_style,
    include: config.include,
    exclude: config.exclude,
  });
}

function trimSlash(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}
