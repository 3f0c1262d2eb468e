// Value noise for the synthetic placenta: random values on a square lattice, interpolated with a smoothstep, and
// the wavy fibre texture made from it. One interpolation, two ways to fill the lattice: a patch draws its
// lattice from its SynthRng (the whole raster is painted at once), a slide hashes each lattice value from its
// global coordinates (any window is painted alone and meets its neighbours without a seam).
import { type SynthRng, synthSeed } from './prng.js';
import { type Box, grow } from './shapes.js';

/** Something with a noise value at (x, y). */
export interface Field {
  at(x: number, y: number): number;
}

function smoothstep01(t: number): number {
  return t * t * (3 - 2 * t);
}

/** The lattice cell whose top-left value is l[i], interpolated at weights (tx, ty) already smoothstepped. */
function cellValue(l: Float32Array, cols: number, i: number, tx: number, ty: number): number {
  const top = l[i]! + (l[i + 1]! - l[i]!) * tx;
  const bottom = l[i + cols]! + (l[i + cols + 1]! - l[i + cols]!) * tx;
  return top + (bottom - top) * ty;
}

/** Value noise over a width x height raster from lattice values drawn from `rng`. In [0, 1]. */
export class ValueNoise implements Field {
  private readonly lattice: Float32Array;
  private readonly cols: number;

  constructor(
    rng: SynthRng,
    width: number,
    height: number,
    private readonly cell: number,
  ) {
    this.cols = Math.ceil(width / cell) + 3;
    const rows = Math.ceil(height / cell) + 3;
    this.lattice = new Float32Array(this.cols * rows);
    for (let i = 0; i < this.lattice.length; i++) this.lattice[i] = rng.next();
  }

  /** Noise at (x, y); coordinates may run up to one cell outside the raster (domain warping). */
  at(x: number, y: number): number {
    const gx = Math.min(Math.max(x / this.cell + 1, 0), this.cols - 2.001);
    const gy = Math.min(Math.max(y / this.cell + 1, 0), this.lattice.length / this.cols - 2.001);
    const ix = Math.floor(gx);
    const iy = Math.floor(gy);
    return cellValue(this.lattice, this.cols, iy * this.cols + ix, smoothstep01(gx - ix), smoothstep01(gy - iy));
  }
}

/** A 32-bit hash of integer coordinates, for lattice values and per-pixel noise. */
export function hash3(seed: number, x: number, y: number): number {
  let h = Math.imul(seed ^ Math.imul(x, 0x27d4eb2d), 0x165667b1) ^ Math.imul(y, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Value noise in [0, 1] on a lattice of `cell` pixels hashed at global coordinates, precomputed over a box. */
export class LatticeNoise implements Field {
  private readonly values: Float32Array;
  private readonly gx0: number;
  private readonly gy0: number;
  private readonly cols: number;

  constructor(
    seed: number,
    salt: number,
    private readonly cell: number,
    box: Box,
  ) {
    const s = synthSeed(seed, salt);
    this.gx0 = Math.floor(box.x0 / cell) - 1;
    this.gy0 = Math.floor(box.y0 / cell) - 1;
    this.cols = Math.floor(box.x1 / cell) + 3 - this.gx0;
    const rows = Math.floor(box.y1 / cell) + 3 - this.gy0;
    this.values = new Float32Array(this.cols * rows);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < this.cols; c++) this.values[r * this.cols + c] = hash3(s, this.gx0 + c, this.gy0 + r) / 4294967296;
    }
  }

  /** Noise at global pixel coordinates inside the box given to the constructor. */
  at(x: number, y: number): number {
    const fx = x / this.cell;
    const fy = y / this.cell;
    const ix = Math.floor(fx);
    const iy = Math.floor(fy);
    const i = (iy - this.gy0) * this.cols + (ix - this.gx0);
    return cellValue(this.values, this.cols, i, smoothstep01(fx - ix), smoothstep01(fy - iy));
  }
}

/** Fractal value noise over the raster: `octaves` layers from `cell` pixels down, each half the size and weight. In [0, 1]. */
export function fractalNoise(rng: SynthRng, width: number, height: number, cell: number, octaves: number): Float32Array {
  const out = new Float32Array(width * height);
  let amp = 1;
  let total = 0;
  for (let o = 0; o < octaves; o++) {
    addValueNoise(out, rng, width, height, Math.max(1, cell / 2 ** o), amp);
    total += amp;
    amp *= 0.5;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= total;
  return out;
}

/** out += amp * value noise of lattice `cell`, row by row with the lattice columns and weights computed once. */
function addValueNoise(out: Float32Array, rng: SynthRng, width: number, height: number, cell: number, amp: number): void {
  const cols = Math.ceil(width / cell) + 2;
  const rows = Math.ceil(height / cell) + 2;
  const lattice = new Float32Array(cols * rows);
  for (let i = 0; i < lattice.length; i++) lattice[i] = rng.next();
  const col = new Int32Array(width);
  const wx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const g = x / cell;
    col[x] = Math.floor(g);
    wx[x] = smoothstep01(g - col[x]!);
  }
  for (let y = 0; y < height; y++) {
    const g = y / cell;
    const row = Math.floor(g);
    const t = smoothstep01(g - row);
    for (let x = 0, i = y * width; x < width; x++, i++) out[i]! += amp * cellValue(lattice, cols, row * cols + col[x]!, wx[x]!, t);
  }
}

/**
 * Wavy thread-like texture in [0, 1] (1 on a thread): ridges of value noise (`fine`) whose coordinates are bent by
 * `reach` times a coarser noise (warp values in [0, 1] at the pixel), the look of loose collagen in villous stroma
 * and of laminated fibrin.
 */
function fibreAt(fine: Field, reach: number, x: number, y: number, warpX: number, warpY: number): number {
  const n = fine.at(x + reach * (warpX - 0.5), y + reach * (warpY - 0.5));
  const ridge = 1 - Math.abs(2 * n - 1);
  return ridge * ridge * ridge;
}

/** The fibre texture over a width x height raster, its lattices drawn from `rng`. */
export function fibres(rng: SynthRng, width: number, height: number, cell: number): Float32Array {
  const out = new Float32Array(width * height);
  const fine = new ValueNoise(rng, width, height, cell);
  const warpX = fractalNoise(rng, width, height, cell * 4, 1);
  const warpY = fractalNoise(rng, width, height, cell * 4, 1);
  const reach = cell * 2.5;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) out[i] = fibreAt(fine, reach, x, y, warpX[i]!, warpY[i]!);
  }
  return out;
}

/** The fibre texture at global coordinates over a box, its lattices hashed from (seed, salt .. salt + 2). */
export class Fibres implements Field {
  private readonly fine: LatticeNoise;
  private readonly warpX: LatticeNoise;
  private readonly warpY: LatticeNoise;
  private readonly reach: number;

  constructor(seed: number, salt: number, cell: number, box: Box) {
    this.reach = cell * 2.5;
    this.fine = new LatticeNoise(seed, salt, cell, grow(box, this.reach));
    this.warpX = new LatticeNoise(seed, salt + 1, cell * 4, box);
    this.warpY = new LatticeNoise(seed, salt + 2, cell * 4, box);
  }

  at(x: number, y: number): number {
    return fibreAt(this.fine, this.reach, x, y, this.warpX.at(x, y), this.warpY.at(x, y));
  }
}
