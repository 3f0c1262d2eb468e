// Cells of the synthetic placenta, stamped into dye maps: soft elliptical stamps, the nucleus (haematoxylin with a
// grainy chromatin texture and a darker membrane) and the red cell (a disc of haemoglobin, paler in the centre),
// and the recipes both front ends draw cells by (sizes in microns times `k` pixels per micron, and counts per
// area). A front end chooses where a cell goes; what a cell looks like is decided here.
import type { SynthRng } from './prng.js';

export interface Ellipse {
  cx: number;
  cy: number;
  /** Semi-axis along `angle`, pixels. */
  a: number;
  b: number;
  angle: number;
}

/** Keeps a stamp to its compartment: whether pixel i may take it. */
export type Where = (i: number) => boolean;

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

/** How a painter draws nuclei: the rim beyond `edge` (normalised radius) `membrane` times darker, the body `body` times. */
export interface NucleusLook {
  edge: number;
  membrane: number;
  body: number;
  /** Overlapping nuclei of an aggregate add up: gain per nucleus and the cap of the sum. */
  stackGain: number;
  stackCap: number;
}

/** A nucleus to stamp: its ellipse and its amount of haematoxylin. */
export interface Nucleus {
  e: Ellipse;
  amount: number;
}

/**
 * Stamps a nucleus into the haematoxylin map H of a width x height raster where `where` allows, textured by
 * grain(i) in [0, 1]; a stacked nucleus adds to what is there (aggregates), another keeps the darker value.
 */
export function stampNucleus(
  H: Float32Array,
  width: number,
  height: number,
  n: Nucleus,
  where: Where,
  grain: (i: number) => number,
  look: NucleusLook,
  stack: boolean,
): void {
  stampEllipse(width, height, n.e, (i, coverage, q) => {
    if (!where(i)) return;
    const value = n.amount * coverage * (0.75 + 0.5 * grain(i)) * (q > look.edge ? look.membrane * look.body : look.body);
    H[i] = stack ? Math.min(look.stackCap, H[i]! + look.stackGain * value) : Math.max(H[i]!, value);
  });
}

/** A painter's red cells: radius in microns and amount of haemoglobin, each drawn uniformly from its range. */
export interface RedCellLook {
  radius: readonly [number, number];
  amount: readonly [number, number];
}

/** Stamps a red cell at (cx, cy) into the blood map B: a disc of haemoglobin, paler in the centre. */
export function stampRedCell(
  B: Float32Array,
  width: number,
  height: number,
  rng: SynthRng,
  at: { cx: number; cy: number; k: number },
  look: RedCellLook,
  where: Where,
): void {
  const r = rng.uniform(look.radius[0], look.radius[1]) * at.k;
  const amount = rng.uniform(look.amount[0], look.amount[1]);
  const e = { cx: at.cx, cy: at.cy, a: r, b: r * rng.uniform(0.75, 1), angle: rng.uniform(0, Math.PI) };
  stampEllipse(width, height, e, (i, coverage, q) => {
    if (where(i)) B[i] = Math.max(B[i]!, amount * coverage * (1 - 0.3 * Math.exp(-((q / 0.5) ** 2))));
  });
}

/** A flat endothelial nucleus on a capillary wall, its long axis along `angle` (the wall). */
export function endothelialNucleus(rng: SynthRng, k: number, cx: number, cy: number, angle: number): Nucleus {
  const e = { cx, cy, a: rng.uniform(3.5, 5.5) * k, b: rng.uniform(1.3, 2) * k, angle };
  return { e, amount: rng.uniform(0.8, 1.1) };
}

/** One of the dark nuclei packed into a trophoblast aggregate. */
export function aggregateNucleus(rng: SynthRng, k: number, cx: number, cy: number): Nucleus {
  const a = rng.uniform(2.8, 4.8) * k;
  const e = { cx, cy, a, b: a * rng.uniform(0.6, 1), angle: rng.uniform(0, Math.PI) };
  return { e, amount: rng.uniform(1, 1.5) };
}

/** A pale cell embedded in fibrin. */
export function fibrinCellNucleus(rng: SynthRng, k: number, cx: number, cy: number): Nucleus {
  const a = rng.uniform(3, 5) * k;
  const e = { cx, cy, a, b: a * rng.uniform(0.7, 1), angle: rng.uniform(0, Math.PI) };
  return { e, amount: rng.uniform(0.6, 0.9) };
}

/** Endothelial nuclei around a capillary of `radius` pixels: one per 30 um of wall, give or take one. */
export function endothelialCount(rng: SynthRng, radius: number, k: number): number {
  return Math.round((2 * Math.PI * radius) / (30 * k)) + (rng.chance(0.5) ? 1 : 0);
}

/** Nuclei in an aggregate of `pixels` area: packed, one per 18 um^2 and at least one. */
export function aggregateCount(pixels: number, k: number): number {
  return Math.round(pixels / (18 * k * k)) + 1;
}

/** Cells in a fibrin deposit of `pixels` area: a few, up to 1.5 per (70 um)^2. */
export function fibrinCellCount(rng: SynthRng, pixels: number, k: number): number {
  return Math.round((pixels / (70 * k) ** 2) * rng.uniform(0, 1.5));
}

/** Red cells filling `fill` of a capillary lumen of `pixels` area. */
export function lumenRedCellCount(fill: number, pixels: number, k: number): number {
  return Math.round((fill * pixels) / (Math.PI * (3.6 * k) ** 2));
}

/** Maternal blood in the intervillous space: a scattering (one chance per SCATTER_UM square) and loose clusters (per CLUSTER_UM square). */
export const MATERNAL_BLOOD = { SCATTER_UM: 40, CLUSTER_UM: 160 } as const;

/** A loose cluster of maternal red cells: its spread (pixels) and how many cells. */
export function bloodCluster(rng: SynthRng, k: number): { spread: number; cells: number } {
  const spread = rng.uniform(12, 40) * k;
  return { spread, cells: rng.int(8, 45) };
}
