import { createSeriesSampler, type SeriesSampler } from './series-sampler.ts';
import { decodeEvent, type TfEvent } from './tfevents-proto.ts';
import { readTfRecords, type TfReadIssue, type TfRecordOptions } from './tfrecord.ts';

export type { TfReadIssue } from './tfrecord.ts';

/** One scalar point as TensorBoard shows it. */
export interface TfScalar {
  tag: string;
  step: number;
  /** Seconds since the epoch (Event.wall_time). */
  wallTime: number;
  value: number;
}

export interface TfScalarOptions extends TfRecordOptions {
  /** Which tags to keep; default all. */
  tags?: (tag: string) => boolean;
}

export interface TfEventsOptions extends TfScalarOptions {
  /** Points kept per tag after downsampling (see series-sampler.ts). Default 20,000. */
  maxPointsPerTag?: number;
  /** Distinct tags kept; later new tags are counted in `tagsOmitted`. Default 1,000. */
  maxTags?: number;
}

/** What a pass over a file found besides the scalars. */
export interface TfScanStats {
  /** Event.file_version of the first record that has one (`brain.Event:2`). */
  fileVersion?: string;
  /** Complete records whose CRCs matched. */
  records: number;
  /** Selected scalar values that were NaN or ±Infinity and were dropped. */
  nonFinite: number;
  /** The first `MAX_ISSUES` issues, in file order. */
  issues: TfReadIssue[];
  /** Issues beyond `MAX_ISSUES`, counted but not kept. */
  issuesOmitted: number;
}

export interface TfEventsResult extends TfScanStats {
  /** Selected tags → points in file order, downsampled to `maxPointsPerTag`. */
  scalars: Map<string, TfScalar[]>;
  /** Selected tags → finite points seen before downsampling. */
  pointCounts: Map<string, number>;
  /** Distinct selected tags dropped because of `maxTags` (counted up to `maxTags` more). */
  tagsOmitted: number;
}

/** A corrupt file can yield one issue per 16 bytes; the first few explain it. */
export const MAX_ISSUES = 100;

/** Loss curves are plotted, not replayed: 20k points is far beyond screen resolution. */
export const DEFAULT_MAX_POINTS_PER_TAG = 20_000;

/** Bounds memory for files with per-layer or per-parameter tags. */
export const DEFAULT_MAX_TAGS = 1_000;

/** Bounds the tag → plugin memo used to skip non-scalar plugins' float tensors. */
const MAX_PLUGIN_MEMO = 10_000;

/**
 * Streams the scalar points of a TensorBoard event file (simple_value, or a one-element float/double tensor of
 * the `scalars` plugin). The generator's return value holds the stats. Never throws because of the bytes;
 * errors thrown by `chunks` (storage failures) propagate.
 */
export async function* readTfEventScalars(chunks: AsyncIterable<Uint8Array>, opts: TfScalarOptions = {}): AsyncGenerator<TfScalar, TfScanStats, undefined> {
  const stats = emptyStats();
  for await (const batch of scalarBatches(chunks, opts, stats)) {
    for (const point of batch) {
      yield point;
    }
  }
  return stats;
}

/** Like `readTfEventScalars`, a batch of points at a time (one await per batch of records, not per point). */
export async function* readTfEventScalarBatches(
  chunks: AsyncIterable<Uint8Array>,
  opts: TfScalarOptions = {},
): AsyncGenerator<TfScalar[], TfScanStats, undefined> {
  const stats = emptyStats();
  yield* scalarBatches(chunks, opts, stats);
  return stats;
}

/** Reads a whole event file into bounded, downsampled per-tag series plus stats. Never throws because of the bytes. */
export async function readTfEvents(chunks: AsyncIterable<Uint8Array>, opts: TfEventsOptions = {}): Promise<TfEventsResult> {
  const maxPoints = Math.max(1, opts.maxPointsPerTag ?? DEFAULT_MAX_POINTS_PER_TAG);
  const maxTags = opts.maxTags ?? DEFAULT_MAX_TAGS;
  const stats = emptyStats();
  const samplers = new Map<string, SeriesSampler<TfScalar>>();
  const omittedTags = new Set<string>();
  for await (const batch of scalarBatches(chunks, opts, stats)) {
    for (const point of batch) {
      let sampler = samplers.get(point.tag);
      if (sampler === undefined && samplers.size < maxTags) {
        sampler = createSeriesSampler<TfScalar>(maxPoints);
        samplers.set(point.tag, sampler);
      }
      if (sampler !== undefined) {
        sampler.add(point);
      } else if (omittedTags.size < maxTags) {
        omittedTags.add(point.tag);
      }
    }
  }
  const scalars = new Map<string, TfScalar[]>();
  const pointCounts = new Map<string, number>();
  for (const [tag, sampler] of samplers) {
    scalars.set(tag, sampler.points());
    pointCounts.set(tag, sampler.seen);
  }
  return { ...stats, scalars, pointCounts, tagsOmitted: omittedTags.size };
}

// --- internal ---

function emptyStats(): TfScanStats {
  return { records: 0, nonFinite: 0, issues: [], issuesOmitted: 0 };
}

/** Decodes record batches into scalar batches, so per-point work stays synchronous; fills `stats` as it goes. */
async function* scalarBatches(chunks: AsyncIterable<Uint8Array>, opts: TfScalarOptions, stats: TfScanStats): AsyncGenerator<TfScalar[], void, undefined> {
  const plugins = new Map<string, string>();
  for await (const items of readTfRecords(chunks, opts)) {
    const out: TfScalar[] = [];
    for (const item of items) {
      if (item.kind === 'issue') {
        addIssue(stats, item.issue);
      } else {
        stats.records++;
        collectScalars(item.data, item.offset, opts, stats, plugins, out);
      }
    }
    if (out.length > 0) {
      yield out;
    }
  }
}

function collectScalars(data: Uint8Array, offset: number, opts: TfScalarOptions, stats: TfScanStats, plugins: Map<string, string>, out: TfScalar[]): void {
  let event: TfEvent;
  try {
    event = decodeEvent(data);
  } catch (err) {
    addIssue(stats, { code: 'bad-proto', offset, message: err instanceof Error ? err.message : String(err) });
    return;
  }
  if (stats.fileVersion === undefined && event.fileVersion !== undefined) {
    stats.fileVersion = event.fileVersion;
  }
  for (const v of event.values) {
    if (v.pluginName !== undefined && plugins.size < MAX_PLUGIN_MEMO) {
      plugins.set(v.tag, v.pluginName);
    }
    const plugin = v.pluginName ?? plugins.get(v.tag);
    if (v.value === undefined || (plugin !== undefined && plugin !== 'scalars')) {
      continue;
    }
    if (opts.tags !== undefined && !opts.tags(v.tag)) {
      continue;
    }
    if (!Number.isFinite(v.value)) {
      stats.nonFinite++;
      continue;
    }
    out.push({ tag: v.tag, step: event.step, wallTime: event.wallTime, value: v.value });
  }
}

function addIssue(stats: TfScanStats, issue: TfReadIssue): void {
  if (stats.issues.length < MAX_ISSUES) {
    stats.issues.push(issue);
  } else {
    stats.issuesOmitted++;
  }
}
