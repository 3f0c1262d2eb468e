// A small seeded PRNG (mulberry32) for test inputs, so that input data and the expected values
// computed from it never come from libtorch's own generators. The stream is the data pipeline's mulberry32.
import { StreamRng as Stream } from '../../src/data/rng.js';

export class Rng {
  readonly #stream: Stream;

  constructor(seed: number) {
    this.#stream = new Stream(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.#stream.next();
  }

  /** n values uniform in [lo, hi). */
  uniform(n: number, lo = -1, hi = 1): number[] {
    return Array.from({ length: n }, () => lo + (hi - lo) * this.next());
  }

  /** n standard normal values (Box-Muller). */
  normal(n: number, std = 1): number[] {
    const out: number[] = [];
    while (out.length < n) {
      const u = 1 - this.next();
      const v = this.next();
      const r = Math.sqrt(-2 * Math.log(u));
      out.push(std * r * Math.cos(2 * Math.PI * v));
      if (out.length < n) out.push(std * r * Math.sin(2 * Math.PI * v));
    }
    return out;
  }

  /** n integers uniform in [lo, hi). */
  ints(n: number, lo: number, hi: number): number[] {
    return Array.from({ length: n }, () => lo + Math.floor((hi - lo) * this.next()));
  }

  /** A random permutation of 0..n-1. */
  perm(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [p[i], p[j]] = [p[j] as number, p[i] as number];
    }
    return p;
  }

  /** n values uniform in [lo, hi) but at least `margin` away from each of `kinks` (non-smooth points). */
  awayFrom(n: number, lo: number, hi: number, kinks: readonly number[], margin = 0.05): number[] {
    const out: number[] = [];
    while (out.length < n) {
      const v = lo + (hi - lo) * this.next();
      if (kinks.every((k) => Math.abs(v - k) >= margin)) out.push(v);
    }
    return out;
  }

  /** n pairwise distinct values (a shuffled grid with spacing `step`, jittered by under step/4), centred on 0. */
  distinct(n: number, step = 0.1): number[] {
    return this.perm(n).map((k) => (k - (n - 1) / 2) * step + (this.next() - 0.5) * (step / 4));
  }
}
