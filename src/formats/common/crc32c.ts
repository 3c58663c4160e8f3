/** Reflected CRC-32C (Castagnoli) polynomial, as used by TFRecord framing. */
const CASTAGNOLI_REFLECTED = 0x82f63b78;

/** TFRecord adds this after rotating so that a CRC over data containing its own CRC is not trivially zero. */
const MASK_DELTA = 0xa282ead8;

/** Byte-at-a-time lookup table, built once at module load (1 KiB). */
const TABLE: Uint32Array = buildTable();

/** CRC-32C of `bytes` (optionally continuing from a previous `crc32c` result), as an unsigned 32-bit integer. */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    crc = (TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)) >>> 0;
  }
  return ~crc >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 bits and add a constant (uint32). */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

/** `maskCrc(crc32c(bytes))`, the value stored in a TFRecord frame. */
export function maskedCrc32c(bytes: Uint8Array): number {
  return maskCrc(crc32c(bytes));
}

// --- internal ---

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? (c >>> 1) ^ CASTAGNOLI_REFLECTED : c >>> 1;
    }
    table[n] = c >>> 0;
  }
  return table;
}
