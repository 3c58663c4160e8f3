import { z } from 'zod';
import { Json } from '../text/json.ts';

/** What `es start` leaves in `<stateDir>/es.json` for `es status` and `es stop`. */
export const EsState = z.object({
  pid: z.number().int().positive(),
  url: z.string(),
  home: z.string(),
  dataDir: z.string(),
  logFile: z.string(),
  /** ISO timestamp. */
  startedAt: z.string(),
  /** Stopped after this long without a command using it; null: runs until `es stop`. */
  idleTimeoutMs: z.number().int().positive().nullable().default(null),
});
export type EsState = z.infer<typeof EsState>;

/** The state file's text, parsed and checked in one step. */
export const EsStateJson = Json.pipe(EsState);
