import { describe, expect, it } from 'vitest';
import { cityHash128 } from '../../src/sql/city-hash.js';
import {
  MAX_BLOCK,
  compressBlock,
  decompressBlocks,
  nativeCompression,
} from '../../src/sql/native-compression.js';

/** Bytes i * 131 + 7 (mod 256), hashed by the Java client's own CityHash (clickhouse-data 0.9.6). */
const JAVA_VECTORS: [number, string, string][] = [
  [0, '3df09dfc64c09a2b', '3cb540c392e51e29'],
  [1, '8be55b379cce0e40', '5ab4744478b1cba'],
  [3, 'eb932eee3e24bb6b', 'ffec5144a8fd549d'],
  [4, '87b5fd1e0939603f', 'd7cd69f836435d60'],
  [7, '3e2831dbd31dcf9f', '5959f5dd3c4b0aca'],
  [8, 'ddce5210a6604339', '1db0cb571c6547ac'],
  [9, '8cca603e1a188255', '17e74101b56abab4'],
  [15, '5ebbb7bb47c1913d', 'e253579b35462d5f'],
  [16, '9fe64a51f1964b33', 'deb9d6910a9685c1'],
  [17, '6720305af95ff5e3', 'f08e523be5cc574c'],
  [31, '3c201ff7a7c26725', '1694f3de7f95b294'],
  [32, '609e40d051a1fd39', '78ba164ef1bbe3c'],
  [63, '9063338a2677fe19', 'ca5515fadb9595f'],
  [64, 'acbfe46ea693ba92', '56cfaee4f6c78c6b'],
  [127, 'f00e82e948f8d91b', '87ba5d90252340eb'],
  [128, '8b58caab8dd4b516', 'ed7aa45825894bec'],
  [129, '6c509bdceebd97c4', 'bfa9ccd551e7ca43'],
  [200, '3141545e08fec2d8', '2243220d9d530471'],
  [255, '1731e467f655db79', '7c10e709a6d9cfae'],
  [256, '531d43229a4cd706', '9e43c5025475ea1e'],
  [1000, '21de6f2c25823e6b', '9b4c6654474dafeb'],
  [4096, 'f62c7ee600f37137', 'a857044c360a0949'],
];

const pattern = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 131 + 7) & 0xff);

describe('ClickHouse native compression', () => {
  it.each(JAVA_VECTORS)('CityHash128 of %i bytes matches the Java client', (length, low, high) => {
    const [l, h] = cityHash128(pattern(length));
    expect([l.toString(16), h.toString(16)]).toEqual([low, high]);
  });

  it('a block carries its checksum, LZ4 method and sizes, and reads back to the same bytes', () => {
    for (const length of [1, 14, 15, 16, 269, 270, 100_000]) {
      const data = Buffer.from(pattern(length));
      const block = compressBlock(data);
      expect(block[16]).toBe(0x82);
      expect(block.readUInt32LE(21)).toBe(length);
      expect(block.readUInt32LE(17)).toBe(block.length - 16);
      expect(decompressBlocks(block).equals(data)).toBe(true);
    }
  });

  it('a flipped byte fails the checksum', () => {
    const block = compressBlock(Buffer.from('SELECT 1'));
    const last = block.length - 1;
    block.writeUInt8(block.readUInt8(last) ^ 1, last);
    expect(() => decompressBlocks(block)).toThrow(/checksum/);
  });

  it('a long stream is cut into blocks of at most MAX_BLOCK bytes that read back whole', async () => {
    const data = Buffer.from(pattern(3 * MAX_BLOCK + 5));
    const stream = nativeCompression();
    const out: Buffer[] = [];
    stream.on('data', (b: Buffer) => out.push(b));
    stream.end(data);
    await new Promise((resolve) => stream.on('end', resolve));
    expect(out).toHaveLength(4);
    expect(decompressBlocks(Buffer.concat(out)).equals(data)).toBe(true);
  });
});
