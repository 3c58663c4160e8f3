import { describe, expect, it } from 'vitest';

import { crc32c, maskCrc, maskedCrc32c } from '../../../../src/formats/common/crc32c.ts';

describe('formats/common/crc32c', () => {
  it.each([
    ['empty', new Uint8Array(0), 0x00000000],
    ['"123456789" (check value)', new TextEncoder().encode('123456789'), 0xe3069283],
    ['32 zero bytes (RFC 3720 B.4)', new Uint8Array(32), 0x8a9136aa],
    ['32 0xff bytes (RFC 3720 B.4)', new Uint8Array(32).fill(0xff), 0x62a8ab43],
    ['32 ascending bytes (RFC 3720 B.4)', Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
  ])('computes CRC-32C of %s', (_name, bytes, expected) => {
    const actual = crc32c(bytes);

    expect(actual).toBe(expected);
  });

  it('continues a CRC across pieces', () => {
    const bytes = new TextEncoder().encode('123456789');

    const actual = crc32c(bytes.subarray(4), crc32c(bytes.subarray(0, 4)));

    expect(actual).toBe(0xe3069283);
  });

  it('masks like TFRecord: rotate right 15, add 0xa282ead8, as uint32', () => {
    const crc = 0xe3069283;
    const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;

    expect(maskCrc(crc)).toBe((rotated + 0xa282ead8) % 2 ** 32);
    expect(maskCrc(0)).toBe(0xa282ead8);
    expect(maskedCrc32c(new TextEncoder().encode('123456789'))).toBe(maskCrc(0xe3069283));
  });

  it('matches the length CRC of a real TFRecord header', () => {
    // Framing of a 72-byte record, as written by a TensorBoard SummaryWriter.
    const header = Uint8Array.from([0x48, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0x92, 0x48, 0x9d]);

    expect(maskedCrc32c(header.subarray(0, 8))).toBe(new DataView(header.buffer).getUint32(8, true));
  });
});
