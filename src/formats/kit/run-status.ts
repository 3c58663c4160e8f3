import type { ActivitySource, RunStatus, StatusInputs } from '../../record/schema.ts';

/** A time the run's own files record (a log line, an event, a save), as evidence of activity. */
export interface LogTime {
  /** Epoch ms; for a zone-less stamp, the stamp read as UTC. */
  at: number;
  source: Exclude<ActivitySource, 'mtime'>;
  /** The stamp is local time of an unknown zone (`2025-03-02 14:03:11`): the instant is only known to ±14 h. */
  zoneless?: boolean;
  /** mtime of the file holding the stamp (epoch ms): bounds a zone-less stamp from above. */
  fileMtime?: number | null;
}

export interface DerivedStatus {
  status: RunStatus;
  evidence: string;
}

/** A run whose last activity is younger than this is considered still training. */
export const RUNNING_WINDOW_MS = 30 * 60 * 1000;

/** An activity time further ahead of the clock than this is a corrupt stamp or a skewed clock, not evidence. */
export const MAX_FUTURE_MS = 24 * 60 * 60 * 1000;

/** Largest epoch ms a Date can hold. */
const MAX_DATE_MS = 8.64e15;

/** UTC offsets span −12 h to +14 h: a zone-less stamp read as UTC is at most this far from the true instant. */
export const ZONELESS_SLACK_MS = 14 * 60 * 60 * 1000;

/**
 * The run's last activity: the newest of its logs' own timestamps when it has any (file mtimes are reset by a copy,
 * a sync tool or a checkout), else the newest file mtime of its listing. A zone-less stamp is only trusted up to its
 * zone slack: the instant is at most stamp + 14 h, and at most the mtime of the file that holds it.
 */
export function lastActivity(logTimes: readonly LogTime[], newestMtime: number | null): Pick<StatusInputs, 'last_activity_at' | 'last_activity_source'> {
  let best: { at: number; source: ActivitySource } | null = null;
  for (const time of logTimes) {
    if (!Number.isFinite(time.at) || time.at <= 0 || time.at > MAX_DATE_MS - ZONELESS_SLACK_MS) {
      continue;
    }
    const at = time.zoneless ? Math.min(time.at + ZONELESS_SLACK_MS, time.fileMtime ?? Number.POSITIVE_INFINITY) : time.at;
    if (best === null || at > best.at) {
      best = { at, source: time.source };
    }
  }
  if (best === null && newestMtime !== null && newestMtime > 0 && newestMtime < MAX_DATE_MS) {
    best = { at: newestMtime, source: 'mtime' };
  }
  return best === null
    ? { last_activity_at: null, last_activity_source: null }
    : { last_activity_at: new Date(best.at).toISOString(), last_activity_source: best.source };
}

/**
 * The status of a run from its durable evidence and a clock, with the evidence in words. Order: an end marker or the
 * final artifact says completed; an error says failed; reaching the max steps says completed; recent activity says
 * running; a stale run that got going without finishing is interrupted; anything else is unknown. Only the
 * running/interrupted/unknown part depends on `now`, so a sync re-derives it from the stored inputs alone.
 */
export function deriveStatus(inputs: StatusInputs, now: Date): DerivedStatus {
  const steps = stepsText(inputs);
  const withSteps = (text: string) => (steps === null ? text : `${text}, ${steps}`);
  if (inputs.terminal === 'completed') {
    return { status: 'completed', evidence: withSteps(inputs.terminal_evidence ?? 'end-of-training marker present') };
  }
  if (inputs.final_artifact !== null) {
    return { status: 'completed', evidence: withSteps(`final artifact ${inputs.final_artifact} written`) };
  }
  if (inputs.terminal === 'failed') {
    return { status: 'failed', evidence: withSteps(inputs.terminal_evidence ?? 'error in the logs') };
  }
  if (reachedMax(inputs)) {
    return { status: 'completed', evidence: `reached its max steps (${steps ?? ''}) without an end marker` };
  }
  const activity = activityText(inputs, now);
  if (activity !== null && activity.ageMs <= RUNNING_WINDOW_MS) {
    return { status: 'running', evidence: withSteps(`${activity.text}, no final artifact yet`) };
  }
  const stale = activity === null ? 'no activity time known' : activity.text;
  if (inputs.caveat !== null) {
    return { status: 'unknown', evidence: withSteps(`${inputs.caveat}; ${stale}`) };
  }
  if (isShort(inputs) || inputs.progressed) {
    return { status: 'interrupted', evidence: withSteps(`stopped without final artifact or error; ${stale}`) };
  }
  return { status: 'unknown', evidence: `no end marker, final artifact or progress; ${stale}` };
}

/** A step count as stored evidence: a non-negative integer, else null (a torn file must not make the record invalid). */
export function stepCount(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

// --- internal ---

function reachedMax(inputs: StatusInputs): boolean {
  return inputs.last_step !== null && inputs.max_steps !== null && inputs.max_steps > 0 && inputs.last_step >= inputs.max_steps;
}

function isShort(inputs: StatusInputs): boolean {
  return inputs.last_step !== null && inputs.max_steps !== null && inputs.last_step < inputs.max_steps;
}

function stepsText(inputs: StatusInputs): string | null {
  if (inputs.last_step !== null && inputs.max_steps !== null) {
    return `${inputs.last_step}/${inputs.max_steps} steps`;
  }
  return inputs.last_step === null ? null : `step ${inputs.last_step}`;
}

function activityText(inputs: StatusInputs, now: Date): { ageMs: number; text: string } | null {
  const at = inputs.last_activity_at === null ? Number.NaN : Date.parse(inputs.last_activity_at);
  if (!Number.isFinite(at) || at - now.getTime() > MAX_FUTURE_MS) {
    return null;
  }
  const ageMs = Math.max(0, now.getTime() - at);
  const what =
    inputs.last_activity_source === 'mtime' || inputs.last_activity_source === null
      ? 'newest file modified'
      : `last ${SOURCE_NAMES[inputs.last_activity_source]}`;
  return { ageMs, text: `${what} ${duration(ageMs)} ago (${inputs.last_activity_at})` };
}

const SOURCE_NAMES: Record<Exclude<ActivitySource, 'mtime'>, string> = {
  tfevents: 'TensorBoard event',
  'log-text': 'training log line',
  'running-log': 'running_log.txt line',
  'safetensors-metadata': 'checkpoint save (ss_training_finished_at)',
};

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) {
    return `${minutes} min`;
  }
  const hours = Math.round(minutes / 60);
  return hours < 72 ? `${hours} h` : `${Math.round(hours / 24)} days`;
}
