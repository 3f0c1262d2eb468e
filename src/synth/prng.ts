// Seeded pseudo-random numbers for the synthetic placenta: sfc32 seeded through splitmix32. Pure 32-bit
// integer arithmetic, so the same seed gives the same stream on every platform and Node version. The data
// pipeline has another generator (data/rng.ts, mulberry32): the names differ and the seeds are branded, so a
// seed mixed for one cannot be handed to the other (it would compile and silently change every dataset).

/** A seed mixed for SynthRng by synthSeed(); a plain number is accepted too, a StreamSeed (data/rng.ts) is not. */
export type SynthSeed = number & { readonly seedFor: 'synth' };
type SeedIn = number & { readonly seedFor?: 'synth' };

/** One splitmix32 step: a well-mixed 32-bit value from a 32-bit state. */
function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A 32-bit seed from a non-negative integer seed (up to 2^53) and stream indices, e.g. (dataset seed, image index). */
export function synthSeed(seed: number, ...indices: number[]): SynthSeed {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  let h = splitmix32(splitmix32(lo) ^ hi);
  for (const index of indices) h = splitmix32(h ^ (index >>> 0));
  return h as SynthSeed;
}

export class SynthRng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  constructor(seed: SeedIn) {
    let s = seed >>> 0;
    s = splitmix32(s);
    this.a = s;
    s = splitmix32(s);
    this.b = s;
    s = splitmix32(s);
    this.c = s;
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32(); // leave the correlated start-up states behind
  }

  /** The next raw 32-bit value (sfc32). */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor((hi - lo) * this.next());
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal;
      this.spareNormal = undefined;
      return v;
    }
    const u = 1 - this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const t = 2 * Math.PI * this.next();
    this.spareNormal = r * Math.sin(t);
    return r * Math.cos(t);
  }

  /** An independent generator, so that adding draws to one part of a scene does not shift the others. */
  fork(): SynthRng {
    return new SynthRng(this.u32());
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
  }
}
