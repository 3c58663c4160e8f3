import path from 'node:path';
import { fsSource, type Config, type FsSourceConfig } from '../../config/schema.ts';

export interface ReportSource {
  source: FsSourceConfig;
  /** The run dir relative to the source root, `/`-separated; '' when the run dir is the root. */
  prefix: string;
  /** Outside every configured source: recorded under an ad-hoc source of its own. */
  adHoc: boolean;
}

/** Prefix of ad-hoc source names; configured names cannot contain `:`, so the two never collide. */
export const AD_HOC_PREFIX = 'report:';

/**
 * Which source a reported run belongs to. Inside a configured fs source: that source and the run's
 * path in it, so a later sync sees the same document (same root, same path; vanish marking applies).
 * Outside every source: an ad-hoc source `report:<absolute dir>` rooted at the run dir itself — one
 * root per directory, so two runs with the same folder name in different places never share a
 * location (and a dir directly under `/` needs no root of `/`). No sync lists an ad-hoc source, so
 * such a run is never marked vanished.
 */
export function resolveReportSource(config: Config, runDir: string): ReportSource {
  const abs = path.resolve(runDir);
  for (const source of config.sources) {
    if (source.kind !== 'fs') {
      continue;
    }
    const rel = path.relative(path.resolve(source.path), abs);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) {
      return { source, prefix: rel.split(path.sep).join('/'), adHoc: false };
    }
  }
  return {
    source: fsSource(`${AD_HOC_PREFIX}${abs}`, abs),
    prefix: '',
    adHoc: true,
  };
}
