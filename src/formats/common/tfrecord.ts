import { maskedCrc32c } from './crc32c.ts';

/** A problem met while reading a TFRecord / event file. `offset` is the byte offset of the record it concerns. */
export interface TfReadIssue {
  code: 'crc-mismatch' | 'truncated' | 'record-too-large' | 'bad-proto';
  offset: number;
  message: string;
}

export interface TfRecordOptions {
  /** Records whose payload is longer than this many bytes are skipped (streamed past, never buffered). Default 16 MiB. */
  maxRecordBytes?: number;
}

/** One framed, CRC-checked record or an issue, in file order. */
export type TfRecordItem = { kind: 'record'; offset: number; data: Uint8Array } | { kind: 'issue'; issue: TfReadIssue };

/** Scalar events are a few dozen bytes; only images/graphs get big, and we skip those rather than buffer them. */
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** u64 length + u32 masked CRC of the length. */
const HEADER_BYTES = 12;

/** u32 masked CRC of the payload. */
const FOOTER_BYTES = 4;

/**
 * Splits a TFRecord byte stream into records, holding at most one record plus one input chunk in memory
 * (besides the records of the current batch, which point into that chunk). Items come in batches: everything
 * complete in the buffer before the next chunk is pulled, so the per-record cost stays synchronous.
 * A bad length CRC ends the stream (framing is lost); a bad payload CRC skips that record; a partial final record
 * (file still being written) is reported as `truncated`. Never throws because of the bytes; errors thrown by
 * `chunks` itself (storage failures) propagate.
 */
export async function* readTfRecords(chunks: AsyncIterable<Uint8Array>, opts: TfRecordOptions = {}): AsyncGenerator<TfRecordItem[], void, undefined> {
  const maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const queue = new ByteQueue(chunks[Symbol.asyncIterator]());
  try {
    yield* frames(queue, maxRecordBytes);
  } finally {
    // A consumer that stops early must not leave a file handle or S3 socket open.
    await queue.close();
  }
}

// --- internal ---

async function* frames(queue: ByteQueue, maxRecordBytes: number): AsyncGenerator<TfRecordItem[], void, undefined> {
  let batch: TfRecordItem[] = [];
  while (true) {
    const offset = queue.offset;
    if (queue.buffered < HEADER_BYTES) {
      if (batch.length > 0) {
        yield batch;
        batch = [];
      }
      if (!(await queue.fill(HEADER_BYTES))) {
        if (queue.buffered > 0) {
          yield [issue('truncated', offset, `${queue.buffered} trailing bytes, record header needs ${HEADER_BYTES}`)];
        }
        return;
      }
    }
    const header = queue.take(HEADER_BYTES);
    const view = new DataView(header.buffer, header.byteOffset, HEADER_BYTES);
    if (maskedCrc32c(header.subarray(0, 8)) !== view.getUint32(8, true)) {
      batch.push(issue('crc-mismatch', offset, 'length CRC mismatch; framing lost, stopped reading'));
      yield batch;
      return;
    }
    const high = view.getUint32(4, true);
    const length = high * 0x100000000 + view.getUint32(0, true);
    if (length > maxRecordBytes) {
      batch.push(issue('record-too-large', offset, `record of ${length} bytes exceeds limit of ${maxRecordBytes}; skipped`));
      yield batch;
      batch = [];
      if (high >= 0x200000 || (await queue.skip(length + FOOTER_BYTES)) < length + FOOTER_BYTES) {
        return;
      }
      continue;
    }
    if (queue.buffered < length + FOOTER_BYTES) {
      if (batch.length > 0) {
        yield batch;
        batch = [];
      }
      if (!(await queue.fill(length + FOOTER_BYTES))) {
        yield [issue('truncated', offset, `record of ${length} bytes cut off after ${queue.buffered} bytes`)];
        return;
      }
    }
    const data = queue.take(length);
    const footer = queue.take(FOOTER_BYTES);
    const stored = new DataView(footer.buffer, footer.byteOffset, FOOTER_BYTES).getUint32(0, true);
    if (maskedCrc32c(data) !== stored) {
      batch.push(issue('crc-mismatch', offset, 'data CRC mismatch; record skipped'));
      continue;
    }
    batch.push({ kind: 'record', offset, data });
  }
}

function issue(code: TfReadIssue['code'], offset: number, message: string): TfRecordItem {
  return { kind: 'issue', issue: { code, offset, message } };
}

/** A FIFO over the input chunks that only pulls what the current record needs. */
class ByteQueue {
  /** Absolute stream offset of the next unread byte. */
  offset = 0;
  /** Unread bytes held. */
  buffered = 0;
  private readonly source: AsyncIterator<Uint8Array>;
  private readonly chunks: Uint8Array[] = [];
  private done = false;

  constructor(source: AsyncIterator<Uint8Array>) {
    this.source = source;
  }

  /** Pulls until at least `n` bytes are held; false when the stream ended first. */
  async fill(n: number): Promise<boolean> {
    while (this.buffered < n) {
      if (this.done) {
        return false;
      }
      const next = await this.source.next();
      if (next.done === true) {
        this.done = true;
        return false;
      }
      if (next.value.length > 0) {
        // A plain view: Node Buffer's own subarray is several times slower and we slice every record.
        this.chunks.push(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
        this.buffered += next.value.length;
      }
    }
    return true;
  }

  /** Releases the source if it was not read to the end. */
  async close(): Promise<void> {
    this.chunks.length = 0;
    if (!this.done) {
      this.done = true;
      // Best effort: a failing cleanup must not hide why reading stopped.
      await this.source.return?.().catch(() => undefined);
    }
  }

  /** Removes `n` held bytes (caller ensured `fill(n)`); zero-copy when they sit in one chunk. */
  take(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) {
      this.consume(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let written = 0;
    while (written < n) {
      const chunk = this.chunks[0]!;
      const part = Math.min(chunk.length, n - written);
      out.set(chunk.subarray(0, part), written);
      written += part;
      this.consume(part);
    }
    return out;
  }

  /** Discards up to `n` bytes without holding them; returns how many were discarded. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n) {
      if (this.buffered === 0 && !(await this.fill(1))) {
        break;
      }
      const part = Math.min(this.chunks[0]!.length, n - skipped);
      this.consume(part);
      skipped += part;
    }
    return skipped;
  }

  private consume(n: number): void {
    const first = this.chunks[0]!;
    if (n === first.length) {
      this.chunks.shift();
    } else {
      this.chunks[0] = first.subarray(n);
    }
    this.buffered -= n;
    this.offset += n;
  }
}
