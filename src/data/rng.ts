// Seeded random streams for the data pipeline. Every random choice (epoch shuffle, few-shot subset,
// per-sample augmentation) draws from a stream keyed by integers, so a run repeats exactly and a
// sample's augmentation does not depend on the batch or worker it lands in. The synthetic placenta has
// another generator (synth/prng.ts, sfc32): the names differ and the seeds are branded, so a seed mixed for
// one cannot be handed to the other.

/** A seed mixed for StreamRng by streamSeed(); a plain number is accepted too, a SynthSeed (synth/prng.ts) is not. */
export type StreamSeed = number & { readonly seedFor: 'stream' };
type SeedIn = number & { readonly seedFor?: 'stream' };

/** murmur3's 32-bit finaliser: a bijective scramble of a 32-bit integer. */
function fmix32(h: number): number {
  let x = h >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** One 32-bit seed from a list of integer keys, e.g. streamSeed(seed, epoch, index). */
export function streamSeed(...keys: number[]): StreamSeed {
  let h = 0x9e3779b9;
  for (const k of keys) {
    if (!Number.isSafeInteger(k)) throw new RangeError(`streamSeed: keys must be safe integers, got ${k}`);
    // Both 32-bit halves, so that large keys (and negatives) still give distinct seeds.
    h = fmix32(h ^ (k >>> 0));
    h = fmix32(h ^ Math.floor(k / 2 ** 32) ^ 0x27d4eb2f);
  }
  return h as StreamSeed;
}

/** mulberry32: small, fast, and good enough for sampling augmentation parameters and orders. */
export class StreamRng {
  #state: number;

  constructor(seed: SeedIn) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [p[i], p[j]] = [p[j] as number, p[i] as number];
    }
    return p;
  }
}
