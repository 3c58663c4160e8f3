import { z } from 'zod';

/** One spooled document: where it goes and what it is. */
export const OutboxEntry = z.object({
  version: z.literal(1),
  index: z.string().min(1),
  id: z.string().min(1),
  doc: z.record(z.string(), z.unknown()),
  spooled_at: z.string(),
});
export type OutboxEntry = z.infer<typeof OutboxEntry>;
