// Pixel-level appearance for the synthetic placenta: smooth value noise, soft elliptical stamps (nuclei, red
// cells) and a Beer–Lambert stain model that turns per-pixel dye densities into RGB, the way light passes
// through a stained section: RGB = background * exp(-sum(density_k * optical_density_k)).
import type { Rng } from './prng.js';

/** Value noise: random values on a square lattice of `cell` pixels, interpolated with a smoothstep. In [0, 1]. */
export class ValueNoise {
  private readonly lattice: Float32Array;
  private readonly cols: number;

  constructor(
    rng: Rng,
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
    let tx = gx - ix;
    let ty = gy - iy;
    tx = tx * tx * (3 - 2 * tx);
    ty = ty * ty * (3 - 2 * ty);
    const i = iy * this.cols + ix;
    const l = this.lattice;
    const top = l[i]! + (l[i + 1]! - l[i]!) * tx;
    const bottom = l[i + this.cols]! + (l[i + this.cols + 1]! - l[i + this.cols]!) * tx;
    return top + (bottom - top) * ty;
  }
}

/** Fractal value noise over the raster: `octaves` layers from `cell` pixels down, each half the size and weight. In [0, 1]. */
export function fractalNoise(rng: Rng, width: number, height: number, cell: number, octaves: number): Float32Array {
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
function addValueNoise(out: Float32Array, rng: Rng, width: number, height: number, cell: number, amp: number): void {
  const cols = Math.ceil(width / cell) + 2;
  const rows = Math.ceil(height / cell) + 2;
  const lattice = new Float32Array(cols * rows);
  for (let i = 0; i < lattice.length; i++) lattice[i] = rng.next();
  const col = new Int32Array(width);
  const wx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const g = x / cell;
    col[x] = Math.floor(g);
    const t = g - col[x]!;
    wx[x] = t * t * (3 - 2 * t);
  }
  for (let y = 0; y < height; y++) {
    const g = y / cell;
    const row = Math.floor(g);
    let t = g - row;
    t = t * t * (3 - 2 * t);
    const top = row * cols;
    const bottom = top + cols;
    for (let x = 0, i = y * width; x < width; x++, i++) {
      const c = col[x]!;
      const w = wx[x]!;
      const a = lattice[top + c]! + (lattice[top + c + 1]! - lattice[top + c]!) * w;
      const b = lattice[bottom + c]! + (lattice[bottom + c + 1]! - lattice[bottom + c]!) * w;
      out[i]! += amp * (a + (b - a) * t);
    }
  }
}

/**
 * Wavy thread-like texture in [0, 1] (1 on a thread): ridges of value noise whose coordinates are bent by a
 * coarser noise, the look of loose collagen in villous stroma and of laminated fibrin.
 */
export function fibres(rng: Rng, width: number, height: number, cell: number): Float32Array {
  const out = new Float32Array(width * height);
  const fine = new ValueNoise(rng, width, height, cell);
  const warpX = fractalNoise(rng, width, height, cell * 4, 1);
  const warpY = fractalNoise(rng, width, height, cell * 4, 1);
  const reach = cell * 2.5;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      const n = fine.at(x + reach * (warpX[i]! - 0.5), y + reach * (warpY[i]! - 0.5));
      const ridge = 1 - Math.abs(2 * n - 1);
      out[i] = ridge * ridge * ridge;
    }
  }
  return out;
}

export interface Ellipse {
  cx: number;
  cy: number;
  /** Semi-axis along `angle`, pixels. */
  a: number;
  b: number;
  angle: number;
}

/**
 * Visits the pixels an ellipse covers: visit(index, coverage in (0, 1], q) where q is the normalised radius (0 at the
 * centre, 1 on the outline). Coverage falls off over one pixel at the outline so small shapes stay smooth.
 */
export function stampEllipse(width: number, height: number, e: Ellipse, visit: (i: number, coverage: number, q: number) => void): void {
  const cos = Math.cos(e.angle);
  const sin = Math.sin(e.angle);
  const reach = Math.max(e.a, e.b) + 1;
  const x0 = Math.max(0, Math.floor(e.cx - reach));
  const x1 = Math.min(width - 1, Math.ceil(e.cx + reach));
  const y0 = Math.max(0, Math.floor(e.cy - reach));
  const y1 = Math.min(height - 1, Math.ceil(e.cy + reach));
  const ia2 = 1 / (e.a * e.a);
  const ib2 = 1 / (e.b * e.b);
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - e.cy;
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - e.cx;
      const u = dx * cos + dy * sin;
      const v = -dx * sin + dy * cos;
      const q = Math.sqrt(u * u * ia2 + v * v * ib2);
      // signed distance to the outline ~ (1 - q) / |grad q|
      const grad = q > 1e-6 ? Math.sqrt(u * u * ia2 * ia2 + v * v * ib2 * ib2) / q : 1;
      const coverage = Math.min(1, 0.5 + (1 - q) / grad);
      if (coverage > 0) visit(y * width + x, coverage, q);
    }
  }
}

type Vec3 = [number, number, number];

/** A stain: the unstained (white-balanced) background colour and each dye's optical density per unit amount. */
export interface Stain {
  background: Vec3;
  haematoxylin: Vec3;
  eosin: Vec3;
  /** The denser, more orange eosin staining of fibrin. */
  fibrin: Vec3;
  /** Haemoglobin-rich red cells. */
  blood: Vec3;
}

/** Dye amounts per pixel (0 = none, 1 = typical). */
export interface DyeMaps {
  haematoxylin: Float32Array;
  eosin: Float32Array;
  fibrin: Float32Array;
  blood: Float32Array;
}

export function emptyDyeMaps(pixels: number): DyeMaps {
  return {
    haematoxylin: new Float32Array(pixels),
    eosin: new Float32Array(pixels),
    fibrin: new Float32Array(pixels),
    blood: new Float32Array(pixels),
  };
}

// Optical densities from colours measured on the real H&E patch (placenta-example.jpg), then adjusted by eye
// beside it: nucleus minus stroma for haematoxylin, the stroma for eosin, fibrin deposits and red cells.
const BASE_STAIN: Stain = {
  background: [206, 206, 200],
  haematoxylin: [0.68, 1.05, 0.28],
  eosin: [0.05, 0.34, 0.2],
  fibrin: [0.08, 0.45, 0.38],
  blood: [0.1, 1, 0.62],
};

/** A stain varied the way slides vary: stronger or weaker dyes, shifted hues, a different scanner white. */
export function randomStain(rng: Rng): Stain {
  const jitter = (v: Vec3, scale: number, hue: number): Vec3 => v.map((c) => c * scale * (1 + hue * rng.normal())) as Vec3;
  const h = rng.uniform(0.75, 1.3);
  const e = rng.uniform(0.8, 1.45);
  const white = rng.uniform(-12, 16);
  return {
    background: BASE_STAIN.background.map((c) => Math.min(250, c + white + rng.uniform(-5, 5))) as Vec3,
    haematoxylin: jitter(BASE_STAIN.haematoxylin, h, 0.1),
    eosin: jitter(BASE_STAIN.eosin, e, 0.12),
    fibrin: jitter(BASE_STAIN.fibrin, e * rng.uniform(0.85, 1.15), 0.05),
    blood: jitter(BASE_STAIN.blood, rng.uniform(0.85, 1.15), 0.06),
  };
}

/**
 * RGB (HWC, uint8) from dye maps: Beer–Lambert per pixel, a slight optical blur, a gentle uneven illumination
 * and sensor noise.
 */
export function renderStain(dyes: DyeMaps, stain: Stain, width: number, height: number, rng: Rng): Uint8Array {
  const n = width * height;
  const rgb = new Float32Array(3 * n);
  const light = fractalNoise(rng, width, height, Math.max(width, height) / 2, 1);
  const { haematoxylin: hm, eosin: em, fibrin: fm, blood: bm } = dyes;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      const lum = 0.96 + 0.06 * light[i]!;
      for (let c = 0; c < 3; c++) {
        const od = hm[i]! * stain.haematoxylin[c]! + em[i]! * stain.eosin[c]! + fm[i]! * stain.fibrin[c]! + bm[i]! * stain.blood[c]!;
        rgb[3 * i + c] = stain.background[c]! * lum * transmittance(od);
      }
    }
  }
  const soft = blur3(blur3(rgb, width, height), width, height); // optics: ~1.5 px softness like a 40x scan
  const out = new Uint8Array(3 * n);
  // sensor noise: triangular, sd ~2.2 levels (cheaper than Gaussian and indistinguishable here)
  for (let i = 0; i < out.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(soft[i]! + 5.4 * (rng.next() - rng.next()))));
  return out;
}

const OD_STEP = 1 / 512;
const EXP_TABLE = Float32Array.from({ length: 8 * 512 + 2 }, (_, j) => Math.exp(-j * OD_STEP));

/** exp(-od) for od >= 0 from a table (linear interpolation, error < 1e-6), the hot spot of rendering. */
function transmittance(od: number): number {
  const g = Math.min(Math.max(od, 0), 8) / OD_STEP;
  const j = Math.floor(g);
  const a = EXP_TABLE[j]!;
  return a + (EXP_TABLE[j + 1]! - a) * (g - j);
}

/** A [1 2 1] x [1 2 1] / 16 blur of an HWC 3-channel image, edges clamped. */
function blur3(src: Float32Array, width: number, height: number): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const l = Math.max(0, x - 1);
      const r = Math.min(width - 1, x + 1);
      for (let c = 0; c < 3; c++) {
        const row = y * width;
        tmp[3 * (row + x) + c] = (src[3 * (row + l) + c]! + 2 * src[3 * (row + x) + c]! + src[3 * (row + r) + c]!) / 4;
      }
    }
  }
  for (let y = 0; y < height; y++) {
    const u = Math.max(0, y - 1) * width;
    const d = Math.min(height - 1, y + 1) * width;
    const row = y * width;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        out[3 * (row + x) + c] = (tmp[3 * (u + x) + c]! + 2 * tmp[3 * (row + x) + c]! + tmp[3 * (d + x) + c]!) / 4;
      }
    }
  }
  return out;
}
