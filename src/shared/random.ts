// The one seeded generator of the project: every sample, bootstrap, control vector, token draw and
// test fixture draws from it, so a seed named in a report reproduces that report bit for bit.
// Independent streams come from sub-seeds (a base seed plus a label), never from seed arithmetic.
//
// mulberry32: small, fast, good enough for sampling and bootstrap (not for cryptography). It was
// kept over xoshiro128** when the generators were merged because the MDF results committed under
// bench/ and the figures in the docs were drawn with it.

/** A uniform generator on [0, 1) from a 32-bit seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent stream seed from a base seed and a label (FNV-1a over the label). */
export function subSeed(seed: number, label: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The generator as an object, for code that draws integers as well as fractions. */
export class Rng {
  private readonly draw: () => number;

  constructor(seed: number) {
    this.draw = rng(seed);
  }

  /** uniform in [0, 1) */
  next(): number {
    return this.draw();
  }

  /** uniform integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.draw() * n);
  }
}

/** Standard normal draws by Box-Muller (both values of a pair are used). */
export function gaussian(random: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    let u = 0;
    while (u === 0) u = random();
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Fisher-Yates, in place. */
export function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
