// Hashes for duplicate detection and a compact open-addressing set, so that a 1 GB file is
// checked for exact and near duplicates without keeping any record text in memory.

/** murmur3's 32-bit finaliser: spreads the bits of an FNV-style running hash */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/**
 * The eight 32-bit lanes both hashes are finalised from, over src[s, s + n): lanes 0-3 take the
 * first 16 bytes of each 32, lanes 4-7 the next 16, one little-endian word a lane (rotate, xor,
 * multiply); then a last 16 bytes, if whole, go to lanes 0-3, and the bytes left, zero-padded to
 * 16, to lanes 4-7 (n is in the seeds, so padding is unambiguous). Eight independent
 * multiply chains: the WebAssembly module computes them as two 128-bit vectors, 32 bytes a step
 * (assembly/jsonScan.ts lanes; test/unit/data/wasmScan.test.ts compares the two).
 */
const lane = new Int32Array(8);
function hashLanes(src: Uint8Array, dv: DataView<ArrayBufferLike>, s: number, n: number): void {
  let a0 = 0x9747b28c ^ n,
    a1 = 0x2545f491 ^ n,
    a2 = 0x6a09e667 ^ n,
    a3 = 0xbb67ae85 ^ n;
  let b0 = 0x3c6ef372 ^ n,
    b1 = 0xa54ff53a ^ n,
    b2 = 0x510e527f ^ n,
    b3 = 0x9b05688c ^ n;
  const e = s + n;
  let i = s;
  for (; i + 32 <= e; i += 32) {
    a0 = Math.imul(((a0 << 5) | (a0 >>> 27)) ^ dv.getInt32(i, true), 0x9e3779b1);
    a1 = Math.imul(((a1 << 5) | (a1 >>> 27)) ^ dv.getInt32(i + 4, true), 0x9e3779b1);
    a2 = Math.imul(((a2 << 5) | (a2 >>> 27)) ^ dv.getInt32(i + 8, true), 0x9e3779b1);
    a3 = Math.imul(((a3 << 5) | (a3 >>> 27)) ^ dv.getInt32(i + 12, true), 0x9e3779b1);
    b0 = Math.imul(((b0 << 7) | (b0 >>> 25)) ^ dv.getInt32(i + 16, true), 0x85ebca77);
    b1 = Math.imul(((b1 << 7) | (b1 >>> 25)) ^ dv.getInt32(i + 20, true), 0x85ebca77);
    b2 = Math.imul(((b2 << 7) | (b2 >>> 25)) ^ dv.getInt32(i + 24, true), 0x85ebca77);
    b3 = Math.imul(((b3 << 7) | (b3 >>> 25)) ^ dv.getInt32(i + 28, true), 0x85ebca77);
  }
  if (i + 16 <= e) {
    a0 = Math.imul(((a0 << 5) | (a0 >>> 27)) ^ dv.getInt32(i, true), 0x9e3779b1);
    a1 = Math.imul(((a1 << 5) | (a1 >>> 27)) ^ dv.getInt32(i + 4, true), 0x9e3779b1);
    a2 = Math.imul(((a2 << 5) | (a2 >>> 27)) ^ dv.getInt32(i + 8, true), 0x9e3779b1);
    a3 = Math.imul(((a3 << 5) | (a3 >>> 27)) ^ dv.getInt32(i + 12, true), 0x9e3779b1);
    i += 16;
  }
  if (i < e) {
    b0 = Math.imul(((b0 << 7) | (b0 >>> 25)) ^ tailWord(src, i, e), 0x85ebca77);
    b1 = Math.imul(((b1 << 7) | (b1 >>> 25)) ^ tailWord(src, i + 4, e), 0x85ebca77);
    b2 = Math.imul(((b2 << 7) | (b2 >>> 25)) ^ tailWord(src, i + 8, e), 0x85ebca77);
    b3 = Math.imul(((b3 << 7) | (b3 >>> 25)) ^ tailWord(src, i + 12, e), 0x85ebca77);
  }
  lane[0] = a0;
  lane[1] = a1;
  lane[2] = a2;
  lane[3] = a3;
  lane[4] = b0;
  lane[5] = b1;
  lane[6] = b2;
  lane[7] = b3;
}

/** The little-endian word at src[at, at + 4), the bytes from e on read as 0. */
function tailWord(src: Uint8Array, at: number, e: number): number {
  if (at + 4 <= e) return src[at] | (src[at + 1] << 8) | (src[at + 2] << 16) | (src[at + 3] << 24);
  let k = 0;
  for (let b = 0; at + b < e; b++) k |= src[at + b] << (8 * b);
  return k;
}

/** The lanes folded into 32 bits in order (rotate by r, xor, multiply by c), then fmix. */
function combine(seed: number, r: number, c: number): number {
  let h = seed;
  for (let k = 0; k < 8; k++) h = Math.imul(((h << r) | (h >>> (32 - r))) ^ lane[k], c);
  return fmix(h);
}

/**
 * 32-bit hash of raw bytes buf[s, e) (see hashLanes; equal byte strings hash equal wherever they
 * lie). It is combined with the 64-bit normalised-text hash, so an exact duplicate is claimed
 * only when 96 bits agree.
 */
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
let viewOf: Uint8Array | null = null;
export function hashBytes(buf: Uint8Array, s: number, e: number): number {
  if (viewOf !== buf) {
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    viewOf = buf;
  }
  hashLanes(buf, view, s, e - s);
  return combine(0x1b873593, 13, 0xcc9e2d51);
}

/**
 * 64-bit hash of a record's training text normalised for near-duplicate detection: ASCII case
 * folded, each run of whitespace and punctuation (JSON escapes such as \n included) one
 * separator, leading and trailing separators dropped. The scanner writes each string's
 * normalised bytes while it reads the string (JsonTape.norm, see jsonScan.ts); the record's text
 * strings are gathered here in order (or hashed where they lie, when they lie side by side) and
 * hashed in eight lanes (hashLanes).
 */
export class NormalizedHasher {
  h1 = 0;
  h2 = 0;
  /** length of the normalised text: 0 means there is nothing to compare */
  length = 0;
  private scratch = new Uint8Array(1 << 16);
  private scratchView: DataView<ArrayBufferLike> = new DataView(this.scratch.buffer);
  private scratchViewOf: Uint8Array = this.scratch;
  private srcView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private srcViewOf: Uint8Array | null = null;

  begin(): void {
    this.length = 0;
  }

  /** Appends one string's normalised bytes src[s, e) (each string ends with its separator). */
  add(src: Uint8Array, s: number, e: number): void {
    const n = e - s;
    if (this.scratch.length < this.length + n + 4) {
      const bigger = new Uint8Array((Math.max(this.scratch.length * 2, this.length + n + 4) + 3) & ~3);
      bigger.set(this.scratch.subarray(0, this.length));
      this.scratch = bigger;
    }
    const out = this.scratch;
    let j = this.length;
    if (n > 48) {
      out.set(src.subarray(s, e), j);
      j += n;
    } else for (let i = s; i < e; i++) out[j++] = src[i];
    this.length = j;
  }

  finish(): void {
    let j = this.length;
    if (j > 0 && this.scratch[j - 1] === 0) j--;
    this.length = j;
    if (this.scratchViewOf !== this.scratch) {
      this.scratchView = new DataView(this.scratch.buffer, this.scratch.byteOffset, this.scratch.byteLength);
      this.scratchViewOf = this.scratch;
    }
    this.hashWords(this.scratch, this.scratchView, 0, j);
  }

  /**
   * The hash of src[s, e) as begin(), add(src, s, e), finish() give it, without the copy: for a
   * record whose text strings lie side by side in the scanner's normalised text.
   */
  hashRange(src: Uint8Array, s: number, e: number): void {
    let j = e - s;
    if (j > 0 && src[e - 1] === 0) j--;
    this.length = j;
    if (this.srcViewOf !== src) {
      this.srcView = new DataView(src.buffer, src.byteOffset, src.byteLength);
      this.srcViewOf = src;
    }
    this.hashWords(src, this.srcView, s, j);
  }

  /** hashLanes over src[s, s + j), finalised twice into a 64-bit hash. */
  private hashWords(src: Uint8Array, view: DataView<ArrayBufferLike>, s: number, j: number): void {
    hashLanes(src, view, s, j);
    this.h1 = combine(0x2545f491, 13, 0x9e3779b1);
    this.h2 = combine(0x6a09e667, 11, 0x85ebca77);
  }
}

export const DUPLICATE_NONE = 0;
export const DUPLICATE_EXACT = 1;
export const DUPLICATE_NEAR = 2;

/**
 * Open-addressing hash set of records: key = 64-bit hash of the normalised text, with the 32-bit
 * hash of the raw bytes and the line of the first copy. One 16-byte slot per record (the four
 * int32 side by side, so a probe touches one cache line), load factor <= 0.7.
 */
export class DuplicateIndex {
  private slots: Int32Array;
  private mask: number;
  private size = 0;
  /** result of the last check: the kind and the line of the earlier copy */
  kind = DUPLICATE_NONE;
  firstLine = 0;
  /** what touch() read (kept, so the reads are not optimised away) */
  touched = 0;

  constructor(initialCapacity = 1 << 12) {
    this.slots = new Int32Array(initialCapacity * 4);
    this.mask = initialCapacity - 1;
  }

  get bytes(): number {
    return this.slots.length * 4;
  }

  /**
   * Looks the record up and inserts it unless an exact copy is already there. Sets `kind` and
   * `firstLine` (the earliest record with the same normalised text, preferring an exact copy).
   */
  check(near1: number, near2: number, rawHash: number, line: number): number {
    if (near1 === 0 && near2 === 0) near1 = 1; // (0, 0) marks an empty slot
    const slots = this.slots;
    let slot = (near1 ^ Math.imul(near2, -1640531535)) & this.mask;
    let nearLine = 0;
    for (;;) {
      const at = slot << 2;
      const a = slots[at];
      const b = slots[at + 1];
      if (a === 0 && b === 0) break;
      if (a === near1 && b === near2) {
        if (slots[at + 2] === rawHash) {
          this.kind = DUPLICATE_EXACT;
          this.firstLine = slots[at + 3];
          return this.kind;
        }
        if (nearLine === 0) nearLine = slots[at + 3];
      }
      slot = (slot + 1) & this.mask;
    }
    const at = slot << 2;
    slots[at] = near1;
    slots[at + 1] = near2;
    slots[at + 2] = rawHash;
    slots[at + 3] = line;
    this.size++;
    if (this.size * 10 > (this.mask + 1) * 7) this.rehash();
    this.kind = nearLine ? DUPLICATE_NEAR : DUPLICATE_NONE;
    this.firstLine = nearLine;
    return this.kind;
  }

  /**
   * Reads the first slot each of `n` records' lookups will probe (their hashes at
   * keys[i * stride], keys[i * stride + 1]) before they are checked one by one: independent
   * loads, so their cache misses overlap instead of coming one after another (a 1 GB file's set
   * is tens of MB). Changes nothing.
   */
  touch(keys: Int32Array, n: number, stride: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let x = 0;
    for (let i = 0, at = 0; i < n; i++, at += stride) {
      let near1 = keys[at];
      const near2 = keys[at + 1];
      if (near1 === 0 && near2 === 0) near1 = 1;
      x ^= slots[((near1 ^ Math.imul(near2, -1640531535)) & mask) << 2];
    }
    this.touched = x;
  }

  /**
   * Room for `records` (a caller's estimate) without a rehash: one rehash now instead of one at
   * each doubling, each of which moves every slot again (memory is that of the final table).
   */
  reserve(records: number): void {
    let capacity = this.mask + 1;
    while (records * 10 > capacity * 7 && capacity < 1 << 26) capacity *= 2;
    if (capacity > this.mask + 1) this.rehash(capacity);
  }

  private rehash(capacity = (this.mask + 1) * 2): void {
    const old = this.slots;
    const slots = new Int32Array(capacity * 4);
    this.mask = capacity - 1;
    for (let at = 0; at < old.length; at += 4) {
      const a = old[at];
      const b = old[at + 1];
      if (a === 0 && b === 0) continue;
      let slot = (a ^ Math.imul(b, -1640531535)) & this.mask;
      while (slots[slot << 2] !== 0 || slots[(slot << 2) + 1] !== 0) slot = (slot + 1) & this.mask;
      const to = slot << 2;
      slots[to] = a;
      slots[to + 1] = b;
      slots[to + 2] = old[at + 2];
      slots[to + 3] = old[at + 3];
    }
    this.slots = slots;
  }
}
