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
 * 32-bit hash of raw bytes buf[s, e), eight bytes per step in two lanes read as little-endian
 * words through a DataView (unaligned reads are fine, and the words are counted from s, so equal
 * byte strings hash equal wherever they lie). It is combined with the 64-bit normalised-text
 * hash, so an exact duplicate is claimed only when 96 bits agree.
 */
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
let viewOf: Uint8Array | null = null;
export function hashBytes(buf: Uint8Array, s: number, e: number): number {
  if (viewOf !== buf) {
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    viewOf = buf;
  }
  const dv = view;
  let h1 = 0x9747b28c ^ (e - s);
  let h2 = 0x2545f491 ^ (e - s);
  let i = s;
  for (; i + 8 <= e; i += 8) {
    h1 = Math.imul(((h1 << 5) | (h1 >>> 27)) ^ dv.getInt32(i, true), 0x9e3779b1);
    h2 = Math.imul(((h2 << 7) | (h2 >>> 25)) ^ dv.getInt32(i + 4, true), 0x85ebca77);
  }
  for (; i < e; i++) h1 = Math.imul(h1 ^ buf[i], 0x01000193);
  return fmix(h1 ^ fmix(h2));
}

// Normalised byte: ASCII letters folded to lower case; digits and bytes >= 0x80 (UTF-8 of
// non-ASCII text; no Unicode case folding) kept; 0 = whitespace or punctuation (a separator).
const NORM = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || c >= 0x80) NORM[c] = c;
  else if (c >= 0x41 && c <= 0x5a) NORM[c] = c | 0x20;
}

/**
 * 64-bit hash of a record's training text normalised for near-duplicate detection: ASCII case
 * folded, each run of whitespace and punctuation (JSON escapes such as \n included) one
 * separator, leading and trailing separators dropped. The normalised bytes go to a scratch
 * buffer without branches (a separator is written, and the write position advances unless the
 * previous byte was a separator too), then are hashed four bytes at a time in two lanes.
 */
export class NormalizedHasher {
  h1 = 0;
  h2 = 0;
  /** length of the normalised text: 0 means there is nothing to compare */
  length = 0;
  private scratch = new Uint8Array(1 << 16);
  private words = new Int32Array(this.scratch.buffer);
  private prev = 0;

  begin(): void {
    this.length = 0;
    this.prev = 0;
  }

  /** Feeds the contents of a JSON string (between the quotes); `escaped`: it holds backslash escapes. */
  feed(buf: Uint8Array, s: number, e: number, escaped: boolean): void {
    if (this.scratch.length < this.length + (e - s) + 4) {
      const bigger = new Uint8Array((Math.max(this.scratch.length * 2, this.length + (e - s) + 4) + 3) & ~3);
      bigger.set(this.scratch.subarray(0, this.length));
      this.scratch = bigger;
    }
    const out = this.scratch;
    let j = this.length;
    let prev = this.prev;
    if (!escaped) {
      for (let i = s; i < e; i++) {
        const n = NORM[buf[i]];
        out[j] = n;
        j += ((n | prev) + 255) >> 8;
        prev = n;
      }
    } else {
      for (let i = s; i < e; i++) {
        let n = NORM[buf[i]];
        // \n, \t, \", \\ ... are separators; \uXXXX keeps its hex text
        if (buf[i] === 0x5c && i + 1 < e && buf[i + 1] !== 0x75) {
          i++;
          n = 0;
        }
        out[j] = n;
        j += ((n | prev) + 255) >> 8;
        prev = n;
      }
    }
    // a field boundary is a separator
    out[j] = 0;
    j += (prev + 255) >> 8;
    this.prev = 0;
    this.length = j;
  }

  finish(): void {
    let j = this.length;
    if (j > 0 && this.scratch[j - 1] === 0) j--;
    this.length = j;
    // zero-pad to a whole word and read the scratch four bytes at a time (little-endian words)
    const buf = this.scratch;
    for (let p = j; p < ((j + 3) & ~3); p++) buf[p] = 0;
    if (this.words.buffer !== buf.buffer) this.words = new Int32Array(buf.buffer, 0, buf.length >> 2);
    const words = this.words;
    const n = (j + 3) >> 2;
    let h1 = 0x2545f491 ^ j;
    let h2 = 0x6a09e667 ^ j;
    for (let w = 0; w < n; w++) {
      const k = words[w];
      // two independent multiply lanes over the words (rotate, xor, multiply), finalised by fmix
      h1 = Math.imul(((h1 << 5) | (h1 >>> 27)) ^ k, 0x9e3779b1);
      h2 = Math.imul(((h2 << 7) | (h2 >>> 25)) ^ k, 0x85ebca77);
    }
    this.h1 = fmix(h1);
    this.h2 = fmix(h2 ^ Math.imul(j, 0x9e3779b1));
  }
}

export const DUPLICATE_NONE = 0;
export const DUPLICATE_EXACT = 1;
export const DUPLICATE_NEAR = 2;

/**
 * Open-addressing hash set of records: key = 64-bit hash of the normalised text, with the 32-bit
 * hash of the raw bytes and the line of the first copy. 16 bytes a slot, load factor <= 0.7.
 */
export class DuplicateIndex {
  private k1: Int32Array;
  private k2: Int32Array;
  private raw: Int32Array;
  private lines: Int32Array;
  private mask: number;
  private size = 0;
  /** result of the last check: the kind and the line of the earlier copy */
  kind = DUPLICATE_NONE;
  firstLine = 0;

  constructor(initialCapacity = 1 << 12) {
    this.k1 = new Int32Array(initialCapacity);
    this.k2 = new Int32Array(initialCapacity);
    this.raw = new Int32Array(initialCapacity);
    this.lines = new Int32Array(initialCapacity);
    this.mask = initialCapacity - 1;
  }

  get bytes(): number {
    return this.k1.length * 16;
  }

  /**
   * Looks the record up and inserts it unless an exact copy is already there. Sets `kind` and
   * `firstLine` (the earliest record with the same normalised text, preferring an exact copy).
   */
  check(near1: number, near2: number, rawHash: number, line: number): number {
    if (near1 === 0 && near2 === 0) near1 = 1; // (0, 0) marks an empty slot
    let slot = (near1 ^ Math.imul(near2, 0x9e3779b1)) & this.mask;
    let nearLine = 0;
    for (;;) {
      const a = this.k1[slot];
      const b = this.k2[slot];
      if (a === 0 && b === 0) break;
      if (a === near1 && b === near2) {
        if (this.raw[slot] === rawHash) {
          this.kind = DUPLICATE_EXACT;
          this.firstLine = this.lines[slot];
          return this.kind;
        }
        if (nearLine === 0) nearLine = this.lines[slot];
      }
      slot = (slot + 1) & this.mask;
    }
    this.k1[slot] = near1;
    this.k2[slot] = near2;
    this.raw[slot] = rawHash;
    this.lines[slot] = line;
    this.size++;
    if (this.size * 10 > this.k1.length * 7) this.rehash();
    this.kind = nearLine ? DUPLICATE_NEAR : DUPLICATE_NONE;
    this.firstLine = nearLine;
    return this.kind;
  }

  private rehash(): void {
    const { k1, k2, raw, lines } = this;
    const capacity = k1.length * 2;
    this.k1 = new Int32Array(capacity);
    this.k2 = new Int32Array(capacity);
    this.raw = new Int32Array(capacity);
    this.lines = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < k1.length; i++) {
      if (k1[i] === 0 && k2[i] === 0) continue;
      let slot = (k1[i] ^ Math.imul(k2[i], 0x9e3779b1)) & this.mask;
      while (this.k1[slot] !== 0 || this.k2[slot] !== 0) slot = (slot + 1) & this.mask;
      this.k1[slot] = k1[i];
      this.k2[slot] = k2[i];
      this.raw[slot] = raw[i];
      this.lines[slot] = lines[i];
    }
  }
}
