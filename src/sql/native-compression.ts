import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { cityHash128 } from './city-hash.js';

/**
 * ClickHouse's own response compression (`compress=1`, which the Java client asks for by
 * default): a sequence of blocks, each a 16-byte CityHash128 checksum of what follows, a method
 * byte (0x82, LZ4), the block's size with its 9-byte header, the uncompressed size, and an LZ4
 * block.
 *
 * The LZ4 block here holds the data as one run of literals, which every LZ4 decoder reads: the
 * framing and checksums are what clients check, and a real compressor would cost main-thread time
 * for little gain on a loopback or LAN link.
 */

const LZ4_METHOD = 0x82;
const HEADER = 9;
/**
 * Uncompressed bytes per block. ClickHouse writes up to 1 MiB; hashing is done on the event loop
 * (about 35 ms per MiB), so blocks are kept small and the stream yields between them.
 */
export const MAX_BLOCK = 64 * 1024;

function literalsOnlyLz4(data: Uint8Array): Buffer {
  const n = data.length;
  const extra = n >= 15 ? Math.floor((n - 15) / 255) + 1 : 0;
  const out = Buffer.allocUnsafe(1 + extra + n);
  let pos = 0;
  out[pos++] = Math.min(n, 15) << 4;
  if (n >= 15) {
    let rest = n - 15;
    while (rest >= 255) {
      out[pos++] = 255;
      rest -= 255;
    }
    out[pos++] = rest;
  }
  out.set(data, pos);
  return out;
}

/** One compressed block of `data` (at most MAX_BLOCK bytes). */
export function compressBlock(data: Uint8Array): Buffer {
  const lz4 = literalsOnlyLz4(data);
  const block = Buffer.allocUnsafe(16 + HEADER + lz4.length);
  block[16] = LZ4_METHOD;
  block.writeUInt32LE(HEADER + lz4.length, 17);
  block.writeUInt32LE(data.length, 21);
  lz4.copy(block, 16 + HEADER);
  const [low, high] = cityHash128(block.subarray(16));
  block.writeBigUInt64LE(low, 0);
  block.writeBigUInt64LE(high, 8);
  return block;
}

/** Reads ClickHouse-compressed blocks back (for tests and `nps sql`); LZ4 literal runs only. */
export function decompressBlocks(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos < data.length) {
    const method = data[pos + 16];
    const size = data.readUInt32LE(pos + 17);
    const raw = data.readUInt32LE(pos + 21);
    const [low, high] = cityHash128(data.subarray(pos + 16, pos + 16 + size));
    if (data.readBigUInt64LE(pos) !== low || data.readBigUInt64LE(pos + 8) !== high) {
      throw new Error('checksum mismatch');
    }
    if (method !== LZ4_METHOD) throw new Error(`method ${String(method)} not supported`);
    const lz4 = data.subarray(pos + 16 + HEADER, pos + 16 + size);
    const token = lz4[0] ?? 0;
    let length = token >> 4;
    let p = 1;
    if (length === 15) {
      let b: number;
      do {
        b = lz4[p++] ?? 0;
        length += b;
      } while (b === 255);
    }
    if (length !== raw || (token & 0x0f) !== 0 || p + length !== lz4.length) {
      throw new Error('not a literal-only LZ4 block');
    }
    parts.push(lz4.subarray(p, p + length));
    pos += 16 + size;
  }
  return Buffer.concat(parts);
}

/** A stream that frames whatever passes through it into compressed blocks. */
export function nativeCompression(): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      void (async () => {
        for (let start = 0; start < chunk.length; start += MAX_BLOCK) {
          if (start > 0) await yieldToLoop();
          this.push(compressBlock(chunk.subarray(start, start + MAX_BLOCK)));
        }
      })().then(() => {
        callback();
      }, callback);
    },
  });
}
