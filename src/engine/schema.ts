import { z } from 'zod';

/** What `es start` leaves in `<stateDir>/es.json` for `es status` and `es stop`. */
export const EsState = z.object({
  pid: z.number().int().positive(),
  url: z.string(),
  home: z.string(),
  dataDir: z.string(),
  logFile: z.string(),
  /** ISO timestamp. */
  startedAt: z.string(),
});
export type EsState = z.infer<typeof EsState>;

/** The state file's text, parsed and checked in one step. */
export const EsStateJson = z
  .string()
  .transform((text, ctx): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not JSON' });
      return z.NEVER;
    }
  })
  .pipe(EsState);
