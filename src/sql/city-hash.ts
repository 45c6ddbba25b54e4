/**
 * CityHash128 as ClickHouse uses it: Google's CityHash v1.0.2, which later CityHash releases
 * changed. ClickHouse checksums every block of its native compression with it, and the Java client
 * (the JDBC driver) refuses a block whose checksum does not match.
 *
 * 64-bit arithmetic is done with BigInt wrapped to 64 bits; blocks are at most about a megabyte,
 * hashed once each, so this is not on a hot path.
 */

const MASK = (1n << 64n) - 1n;
const K0 = 0xc3a5c85c97cb3127n;
const K1 = 0xb492b66fbe98f273n;
const K2 = 0x9ae16a3b2f90404fn;
const K3 = 0xc949d7c7509e6557n;
const K_MUL = 0x9ddfea08eb382d69n;

const u64 = (x: bigint): bigint => x & MASK;
const add = (...xs: bigint[]): bigint => u64(xs.reduce((a, b) => a + b, 0n));
const mul = (a: bigint, b: bigint): bigint => u64(a * b);

function rotate(value: bigint, shift: number): bigint {
  if (shift === 0) return value;
  const s = BigInt(shift);
  return u64((value >> s) | (value << (64n - s)));
}

const shiftMix = (value: bigint): bigint => value ^ (value >> 47n);

function hashLen16(u: bigint, v: bigint): bigint {
  let a = mul(u ^ v, K_MUL);
  a ^= a >> 47n;
  let b = mul(v ^ a, K_MUL);
  b ^= b >> 47n;
  return mul(b, K_MUL);
}

class Reader {
  readonly #view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  fetch64(pos: number): bigint {
    return this.#view.getBigUint64(pos, true);
  }
  fetch32(pos: number): bigint {
    return BigInt(this.#view.getUint32(pos, true));
  }
  byte(pos: number): bigint {
    return BigInt(this.bytes[pos] ?? 0);
  }
}

function hashLen0to16(s: Reader, pos: number, len: number): bigint {
  const n = BigInt(len);
  if (len > 8) {
    const a = s.fetch64(pos);
    const b = s.fetch64(pos + len - 8);
    return hashLen16(a, rotate(add(b, n), len)) ^ b;
  }
  if (len >= 4) {
    const a = s.fetch32(pos);
    return hashLen16(add(a << 3n, n), s.fetch32(pos + len - 4));
  }
  if (len > 0) {
    const y = s.byte(pos) + (s.byte(pos + (len >>> 1)) << 8n);
    const z = n + (s.byte(pos + len - 1) << 2n);
    return mul(shiftMix(mul(y, K2) ^ mul(z, K3)), K2);
  }
  return K2;
}

type Pair = [bigint, bigint];

function weakHashLen32WithSeeds(s: Reader, pos: number, seedA: bigint, seedB: bigint): Pair {
  const w = s.fetch64(pos);
  const x = s.fetch64(pos + 8);
  const y = s.fetch64(pos + 16);
  const z = s.fetch64(pos + 24);
  let a = add(seedA, w);
  let b = rotate(add(seedB, a, z), 21);
  const c = a;
  a = add(a, x, y);
  b = add(b, rotate(a, 44));
  return [add(a, z), add(b, c)];
}

function cityMurmur(s: Reader, start: number, len: number, seed: Pair): Pair {
  let [a, b] = seed;
  let c: bigint;
  let d: bigint;
  let pos = start;
  let l = len - 16;
  if (l <= 0) {
    a = mul(shiftMix(mul(a, K1)), K1);
    c = add(mul(b, K1), hashLen0to16(s, pos, len));
    d = shiftMix(add(a, len >= 8 ? s.fetch64(pos) : c));
  } else {
    c = hashLen16(add(s.fetch64(pos + len - 8), K1), a);
    d = hashLen16(add(b, BigInt(len)), add(c, s.fetch64(pos + len - 16)));
    a = add(a, d);
    do {
      a ^= mul(shiftMix(mul(s.fetch64(pos), K1)), K1);
      a = mul(a, K1);
      b ^= a;
      c ^= mul(shiftMix(mul(s.fetch64(pos + 8), K1)), K1);
      c = mul(c, K1);
      d ^= c;
      pos += 16;
      l -= 16;
    } while (l > 0);
  }
  a = hashLen16(a, c);
  b = hashLen16(d, b);
  return [a ^ b, hashLen16(b, a)];
}

function cityHash128WithSeed(s: Reader, start: number, length: number, seed: Pair): Pair {
  if (length < 128) return cityMurmur(s, start, length, seed);
  let pos = start;
  let len = length;
  let [x, y] = seed;
  let z = mul(BigInt(len), K1);
  const v0 = add(mul(rotate(y ^ K1, 49), K1), s.fetch64(pos));
  let v: Pair = [v0, add(mul(rotate(v0, 42), K1), s.fetch64(pos + 8))];
  let w: Pair = [
    add(mul(rotate(add(y, z), 35), K1), x),
    mul(rotate(add(x, s.fetch64(pos + 88)), 53), K1),
  ];

  // The same inner loop as CityHash64, unrolled twice.
  do {
    for (let half = 0; half < 2; half++) {
      x = mul(rotate(add(x, y, v[0], s.fetch64(pos + 16)), 37), K1);
      y = mul(rotate(add(y, v[1], s.fetch64(pos + 48)), 42), K1);
      x ^= w[1];
      y ^= v[0];
      z = rotate(z ^ w[0], 33);
      v = weakHashLen32WithSeeds(s, pos, mul(v[1], K1), add(x, w[0]));
      w = weakHashLen32WithSeeds(s, pos + 32, add(z, w[1]), y);
      [z, x] = [x, z];
      pos += 64;
    }
    len -= 128;
  } while (len >= 128);

  y = add(y, mul(rotate(w[0], 37), K0), z);
  x = add(x, mul(rotate(add(v[0], z), 49), K0));
  // Up to four 32-byte chunks from the end.
  for (let tailDone = 0; tailDone < len;) {
    tailDone += 32;
    y = add(mul(rotate(u64(y - x), 42), K0), v[1]);
    w[0] = add(w[0], s.fetch64(pos + len - tailDone + 16));
    x = add(mul(rotate(x, 49), K0), w[0]);
    w[0] = add(w[0], v[0]);
    v = weakHashLen32WithSeeds(s, pos + len - tailDone, v[0], v[1]);
  }
  x = hashLen16(x, v[0]);
  y = hashLen16(y, w[0]);
  return [add(hashLen16(add(x, v[1]), w[1]), y), hashLen16(add(x, w[1]), add(y, v[1]))];
}

/** CityHash128 v1.0.2 of `bytes`: [low 64 bits, high 64 bits]. */
export function cityHash128(bytes: Uint8Array): Pair {
  const s = new Reader(bytes);
  const len = bytes.length;
  if (len >= 16) {
    return cityHash128WithSeed(s, 16, len - 16, [s.fetch64(0) ^ K3, s.fetch64(8)]);
  }
  if (len >= 8) {
    const seed: Pair = [s.fetch64(0) ^ mul(BigInt(len), K0), s.fetch64(len - 8) ^ K1];
    return cityHash128WithSeed(new Reader(new Uint8Array(0)), 0, 0, seed);
  }
  return cityHash128WithSeed(s, 0, len, [K0, K1]);
}
