// The ceilings' prebuilt `_bulk` bodies: every document of an index, as raw `index` lines into another index, cut at
// about 5 MiB (raw_bulk.py's size). They wait in a temporary file, not in memory (3–4 GB at a million runs).
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { scanPages } from '../src/es/pit.ts';

const BODY_BYTES = 5 * 1024 * 1024;

export interface BulkBodies {
  count: number;
  docs: number;
  /** Body `i`, read back from the file (the page cache, right after writing). */
  read(i: number): Promise<Buffer>;
  close(): Promise<void>;
}

export async function spoolBulkBodies(client: Client, source: string, target: string): Promise<BulkBodies> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'lora-bulk-bodies-'));
  const file = await open(path.join(folder, 'bodies.ndjson'), 'w+');
  const bodies: Array<{ at: number; bytes: number }> = [];
  let docs = 0;
  try {
    let lines: string[] = [];
    let size = 0;
    let at = 0;
    const cut = async () => {
      const body = Buffer.from(lines.join(''));
      await file.write(body, 0, body.length, at);
      bodies.push({ at, bytes: body.length });
      at += body.length;
      lines = [];
      size = 0;
    };
    for await (const hits of scanPages<Record<string, unknown>>(client, { index: source, pageSize: 5000 })) {
      for (const hit of hits) {
        const line = `${JSON.stringify({ index: { _index: target, _id: hit._id } })}\n${JSON.stringify(hit._source)}\n`;
        lines.push(line);
        size += line.length;
        docs += 1;
        if (size >= BODY_BYTES) {
          await cut();
        }
      }
    }
    if (lines.length > 0) {
      await cut();
    }
  } catch (err) {
    await file.close();
    await rm(folder, { recursive: true, force: true });
    throw err;
  }
  return {
    count: bodies.length,
    docs,
    async read(i) {
      const { at, bytes } = bodies[i] as { at: number; bytes: number };
      const body = Buffer.alloc(bytes);
      await file.read(body, 0, bytes, at);
      return body;
    },
    async close() {
      await file.close();
      await rm(folder, { recursive: true, force: true });
    },
  };
}
