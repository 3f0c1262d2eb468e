// The stain of the synthetic placenta: dye optical densities varied per slide or patch, and the Beer–Lambert model
// that turns per-pixel dye amounts into RGB, the way light passes through a stained section:
// RGB = background * exp(-sum(amount_k * optical_density_k)).
import { fractalNoise } from './noise.js';
import type { SynthRng } from './prng.js';

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
export function randomStain(rng: SynthRng): Stain {
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
export function renderStain(dyes: DyeMaps, stain: Stain, width: number, height: number, rng: SynthRng): Uint8Array {
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

// exp(-od), the hot spot of rendering, from tables of 512 steps per unit of optical density: interpolated for
// patches (error < 1e-6), stepped for slides (within 0.2%, under half a grey level; a slide renders far more
// pixels). Each is its painter's calibration: changing one changes every image that painter has made.
const OD_STEPS = 512;
const EXP_TABLE = Float32Array.from({ length: 8 * OD_STEPS + 2 }, (_, j) => Math.exp(-j / OD_STEPS));
const EXP_MAX = 12;
const EXP_MIDPOINTS = Float32Array.from({ length: EXP_MAX * OD_STEPS + 1 }, (_, i) => Math.exp(-(i + 0.5) / OD_STEPS));

/** exp(-od) for od >= 0 by linear interpolation (od clipped at 8). */
function transmittance(od: number): number {
  const g = Math.min(Math.max(od, 0), 8) * OD_STEPS;
  const j = Math.floor(g);
  const a = EXP_TABLE[j]!;
  return a + (EXP_TABLE[j + 1]! - a) * (g - j);
}

/** exp(-od) for od >= 0 from the midpoint of its 1/512 step (0 beyond od 12). */
export function transmittanceStep(od: number): number {
  const i = (od * OD_STEPS) | 0;
  return i < EXP_MIDPOINTS.length ? EXP_MIDPOINTS[i]! : 0;
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
