import { z } from 'zod';

/** A string that must be JSON, parsed (STYLE rule 11: `Json.pipe(Shape)` instead of `try { JSON.parse }`). For Python's NaN/Infinity, see tolerant-json.ts. */
export const Json = z.string().transform((text, ctx): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not JSON', input: text });
    return z.NEVER;
  }
});
