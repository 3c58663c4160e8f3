import type { Client } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { createBulkWriter } from '../../../src/es/bulk.ts';

/** A client whose `_bulk` answers every item as written after a short wait, recording how many ops each request carried. */
function slowClient(): { client: Client; sizes: number[] } {
  const sizes: number[] = [];
  const bulk = async (req: { body: Buffer }) => {
    const lines = req.body.toString('utf8').split('\n').filter(Boolean);
    sizes.push(lines.length / 2);
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { errors: false, items: Array.from({ length: lines.length / 2 }, () => ({ index: { status: 201 } })) };
  };
  return { client: { bulk } as unknown as Client, sizes };
}

describe('es/bulk batching', () => {
  it('keeps requests full when many adds wait for a free request slot at once', async () => {
    const { client, sizes } = slowClient();
    const doc = new TextEncoder().encode(JSON.stringify({ text: 'x'.repeat(900) }));
    const writer = createBulkWriter({ client, index: 'runs', flushBytes: 10_000, concurrency: 1, retries: 0 });

    // 64 producers at once, as the sync's settle pool adds parsed runs: each add past the threshold waits for the slot.
    await Promise.all(
      Array.from({ length: 64 }, async (_, p) => {
        for (let i = 0; i < 10; i++) {
          await writer.add({ op: 'index-bytes', id: `${p}-${i}`, doc });
        }
      }),
    );
    const stats = await writer.flush();

    expect(stats.written).toBe(640);
    // ≈ 950 bytes per op and 10 KB per request: 11 ops each (the op that passes 10 KB goes too), however many
    // piled up meanwhile; only the final flush may carry fewer.
    expect(sizes.slice(0, -1).every((n) => n === 11)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(640);
    expect(sizes.length).toBe(Math.ceil(640 / 11));
  });
});
