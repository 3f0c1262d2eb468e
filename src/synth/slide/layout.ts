// Geometry of a synthetic whole slide, as pure functions of (seed, position): the tissue sections, and the
// villi, fibrin deposits and trophoblast aggregates of the jittered grid cells around any window. Any window
// of the slide can be laid out on its own and agrees with its neighbours, which is what lets the slide be
// painted band by band (or tile by tile) in bounded memory with no seams. Sizes are in microns, turned into
// pixels with the slide's mpp. The shapes are the patch painter's (../shapes.ts), so slide and patch tissue
// are drawn alike.
import { SynthRng, synthSeed } from '../prng.js';
import { type Box, blob, boxesMeet, boxOf, type Polygon, scalePolygon } from '../shapes.js';

/** A tissue section: an irregular outline (level-0 pixels) with a ragged edge. */
export interface Section {
  outline: Polygon;
  box: Box;
}

/**
 * One to three sections, each in its own cell of a grid over the slide (a row on a wide slide, 2 x 2 cells
 * on a square one), stretched along its cell and filling most of it, with white glass around them.
 */
export function layoutSections(width: number, height: number, seed: number): Section[] {
  const rng = new SynthRng(synthSeed(seed, 0x5ec7));
  const count = rng.int(1, 4);
  const aspect = width / height;
  const cols = count === 1 ? 1 : aspect >= 1.5 ? count : aspect <= 1 / 1.5 ? 1 : 2;
  const rows = Math.ceil(count / cols);
  const cellW = width / cols;
  const cellH = height / rows;
  const cells = rng.shuffle(Array.from({ length: cols * rows }, (_, i) => i)).slice(0, count);
  const sections: Section[] = [];
  for (const c of cells) {
    const cell = {
      x0: (c % cols) * cellW,
      y0: Math.floor(c / cols) * cellH,
      x1: ((c % cols) + 1) * cellW,
      y1: (Math.floor(c / cols) + 1) * cellH,
    };
    const cx = (cell.x0 + cell.x1) / 2 + rng.uniform(-0.04, 0.04) * cellW;
    const cy = (cell.y0 + cell.y1) / 2 + rng.uniform(-0.04, 0.04) * cellH;
    const elongation = Math.max(1, Math.min(2.2, Math.max(cellW, cellH) / Math.min(cellW, cellH)) * rng.uniform(0.75, 1));
    const angle = (cellW >= cellH ? 0 : Math.PI / 2) + rng.uniform(-0.35, 0.35);
    const radius = 0.42 * Math.min(cellW, cellH) * Math.sqrt(elongation);
    const outline = raggedOutline(rng, cx, cy, radius, elongation, angle);
    // Shrink the outline about its centre until it keeps a 3% margin inside its cell.
    const b = boxOf(outline);
    const mx = 0.03 * cellW;
    const my = 0.03 * cellH;
    const fit = Math.min(
      1,
      (cx - cell.x0 - mx) / (cx - b.x0),
      (cell.x1 - mx - cx) / (b.x1 - cx),
      (cy - cell.y0 - my) / (cy - b.y0),
      (cell.y1 - my - cy) / (b.y1 - cy),
    );
    const fitted = fit < 1 ? scalePolygon(outline, cx, cy, fit) : outline;
    sections.push({ outline: fitted, box: boxOf(fitted) });
  }
  return sections;
}

/** A closed outline whose radius wobbles at every scale (harmonics 2..64, amplitude ~ 1/k), like a cut tissue edge. */
function raggedOutline(rng: SynthRng, cx: number, cy: number, radius: number, elongation: number, angle: number): Polygon {
  return blob(rng, { cx, cy, radius, elongation, angle, roughness: 0.2, vertices: 1024, maxHarmonic: 64, falloff: 1, minRadius: 0.45 });
}

export interface Capillary {
  outline: Polygon;
  /** Inside the endothelial wall. */
  lumen: Polygon;
  box: Box;
  /** Seed of its contents (red cells, endothelial nuclei). */
  seed: number;
}

export interface Villus {
  kind: 'terminal' | 'stem';
  cx: number;
  cy: number;
  /** Outer outline, and the outline of the stroma inside the trophoblast layer. */
  outline: Polygon;
  core: Polygon;
  /** Thickness of the trophoblast layer, pixels. */
  rim: number;
  box: Box;
  capillaries: Capillary[];
  /** Seed of its nuclei. */
  seed: number;
}

/** A blob-shaped object: a fibrin deposit or a trophoblast aggregate. */
export interface Patch {
  outline: Polygon;
  box: Box;
  seed: number;
}

/** Per-slide scale: microns to level-0 pixels. */
export interface Scale {
  seed: number;
  /** Pixels per micron (1 / mpp). */
  px: number;
}

/** A population of objects, one chance per cell of a jittered square grid: cell size and the farthest reach from the cell. */
interface Grid {
  salt: number;
  cellUm: number;
  reachUm: number;
}

const CAPILLARY_WALL_UM = 1.6;

const TERMINAL_VILLI: Grid = { salt: 1, cellUm: 85, reachUm: 120 };
const STEM_VILLI: Grid = { salt: 2, cellUm: 520, reachUm: 420 };
const FIBRIN: Grid = { salt: 3, cellUm: 650, reachUm: 520 };
const FREE_AGGREGATES: Grid = { salt: 4, cellUm: 380, reachUm: 60 };

/**
 * The objects of every grid cell whose objects can reach `window` (level-0 pixels) and do. make(rng, cell x0,
 * cell y0) draws a cell's object; one that pokes out beyond the grid's reach is dropped, whatever the window,
 * so that every window sees the same objects.
 */
function objectsNear<T extends { box: Box }>(
  grid: Grid,
  scale: Scale,
  window: Box,
  make: (rng: SynthRng, x0: number, y0: number) => T | undefined,
): T[] {
  const out: T[] = [];
  const cell = grid.cellUm * scale.px;
  const reach = grid.reachUm * scale.px;
  const gx0 = Math.floor((window.x0 - reach) / cell);
  const gx1 = Math.floor((window.x1 + reach) / cell);
  const gy0 = Math.floor((window.y0 - reach) / cell);
  const gy1 = Math.floor((window.y1 + reach) / cell);
  for (let gy = gy0; gy <= gy1; gy++) {
    for (let gx = gx0; gx <= gx1; gx++) {
      const x0 = gx * cell;
      const y0 = gy * cell;
      const o = make(new SynthRng(synthSeed(synthSeed(scale.seed, grid.salt), (((gy & 0xffff) << 16) | (gx & 0xffff)) >>> 0)), x0, y0);
      if (o === undefined || !boxesMeet(o.box, window)) continue;
      const b = o.box;
      if (b.x0 >= x0 - reach && b.y0 >= y0 - reach && b.x1 <= x0 + cell + reach && b.y1 <= y0 + cell + reach) out.push(o);
    }
  }
  return out;
}

/** Terminal villi (dense, 20-60 um) and stem villi (sparse, 90-150 um, elongated), each with its capillaries. */
export function villiNear(scale: Scale, window: Box): Villus[] {
  const um = scale.px;
  const terminal = objectsNear(TERMINAL_VILLI, scale, window, (rng, x0, y0) => {
    if (!rng.chance(0.92)) return undefined;
    const radius = Math.min(60, Math.max(20, 38 * Math.exp(0.3 * rng.normal()))) * um;
    return makeVillus(
      rng,
      'terminal',
      x0 + rng.uniform(0, TERMINAL_VILLI.cellUm * um),
      y0 + rng.uniform(0, TERMINAL_VILLI.cellUm * um),
      radius,
      {
        elongation: 1 + Math.min(0.9, 0.45 * Math.abs(rng.normal())),
        roughness: rng.uniform(0.1, 0.22),
        rimUm: rng.uniform(2.5, 5),
        scale,
      },
    );
  });
  const stem = objectsNear(STEM_VILLI, scale, window, (rng, x0, y0) => {
    if (!rng.chance(0.3)) return undefined;
    return makeVillus(
      rng,
      'stem',
      x0 + rng.uniform(0, STEM_VILLI.cellUm * um),
      y0 + rng.uniform(0, STEM_VILLI.cellUm * um),
      rng.uniform(90, 150) * um,
      {
        elongation: rng.uniform(1.5, 3),
        roughness: 0.08,
        rimUm: rng.uniform(1.5, 2.5),
        scale,
      },
    );
  });
  return [...stem, ...terminal];
}

function makeVillus(
  rng: SynthRng,
  kind: Villus['kind'],
  cx: number,
  cy: number,
  radius: number,
  o: { elongation: number; roughness: number; rimUm: number; scale: Scale },
): Villus {
  const um = o.scale.px;
  const angle = rng.uniform(0, Math.PI);
  const outline = blob(rng, {
    cx,
    cy,
    radius,
    elongation: o.elongation,
    angle,
    roughness: o.roughness,
    vertices: kind === 'stem' ? 96 : 48,
  });
  // The short semi-axis sets how far in the trophoblast layer reaches.
  const shortAxis = radius / Math.sqrt(o.elongation);
  const core = scalePolygon(outline, cx, cy, Math.max(0.3, 1 - (o.rimUm * um) / shortAxis));
  const capillaries: Capillary[] = [];
  const count = kind === 'stem' ? rng.int(1, 3) : rng.int(1, 5);
  for (let c = 0; c < count; c++) {
    const r = (kind === 'stem' ? rng.uniform(12, 28) : rng.chance(0.15) ? rng.uniform(10, 16) : rng.uniform(4.5, 10)) * um;
    // Inside the stroma, clear of the trophoblast layer: within (short axis - rim - r) of the centre, along the long axis or across it.
    const room = Math.max(0, shortAxis - o.rimUm * um - 1.2 * r);
    const t = rng.uniform(0, 2 * Math.PI);
    const d = room * Math.sqrt(rng.next());
    const pcx = cx + d * Math.cos(t);
    const pcy = cy + d * Math.sin(t);
    const poly = blob(rng, {
      cx: pcx,
      cy: pcy,
      radius: r,
      elongation: rng.uniform(1, 1.8),
      angle: rng.uniform(0, Math.PI),
      roughness: 0.12,
      vertices: 24,
    });
    const lumen = scalePolygon(poly, pcx, pcy, Math.max(0.2, 1 - (CAPILLARY_WALL_UM * um) / r));
    capillaries.push({ outline: poly, lumen, box: boxOf(poly), seed: rng.u32() });
  }
  return { kind, cx, cy, outline, core, rim: o.rimUm * um, box: boxOf(outline), capillaries, seed: rng.u32() };
}

/** How a population of blobs is drawn: the chance a grid cell has one, radius (um) and elongation ranges, outline. */
interface BlobLook {
  chance: number;
  radiusUm: [number, number];
  elongation: [number, number];
  roughness: number;
  vertices?: number;
}

/** Blobs anywhere in their grid cells, one chance per cell. */
function blobsNear(grid: Grid, look: BlobLook, scale: Scale, window: Box): Patch[] {
  const um = scale.px;
  return objectsNear(grid, scale, window, (rng, x0, y0) => {
    if (!rng.chance(look.chance)) return undefined;
    const cx = x0 + rng.uniform(0, grid.cellUm * um);
    const cy = y0 + rng.uniform(0, grid.cellUm * um);
    const outline = blob(rng, {
      cx,
      cy,
      radius: rng.uniform(...look.radiusUm) * um,
      elongation: rng.uniform(...look.elongation),
      angle: rng.uniform(0, Math.PI),
      roughness: look.roughness,
      vertices: look.vertices,
    });
    return { outline, box: boxOf(outline), seed: rng.u32() };
  });
}

/** Fibrin deposits: large irregular blobs between villi (they cover the villi they fall on). */
export function fibrinNear(scale: Scale, window: Box): Patch[] {
  return blobsNear(FIBRIN, { chance: 0.3, radiusUm: [60, 190], elongation: [1, 2.5], roughness: 0.25 }, scale, window);
}

/** How far a syncytial knot may reach beyond its villus's box; callers pass villi laid out for a window grown by this. */
export const KNOT_REACH_UM = 60;

/**
 * Trophoblast aggregates: syncytial knots bulging from the border of one terminal villus in five (from
 * `villi`, which must include every villus within KNOT_REACH_UM of the window), plus a few free cell
 * islands in the intervillous space.
 */
export function aggregatesNear(scale: Scale, villi: readonly Villus[], window: Box): Patch[] {
  const um = scale.px;
  const out: Patch[] = [];
  for (const v of villi) {
    if (v.kind !== 'terminal') continue;
    const rng = new SynthRng(synthSeed(v.seed, 0x4b));
    if (!rng.chance(0.2)) continue;
    const j = rng.int(0, v.outline.length / 2);
    const px = v.outline[2 * j]!;
    const py = v.outline[2 * j + 1]!;
    const len = Math.hypot(px - v.cx, py - v.cy) || 1;
    const r = rng.uniform(9, 22) * um;
    const outline = blob(rng, {
      cx: px + ((px - v.cx) / len) * 0.2 * r,
      cy: py + ((py - v.cy) / len) * 0.2 * r,
      radius: r,
      elongation: rng.uniform(1.4, 2.4),
      angle: Math.atan2(py - v.cy, px - v.cx) + Math.PI / 2,
      roughness: 0.2,
      vertices: 36,
    });
    const box = boxOf(outline);
    const reach = KNOT_REACH_UM * um;
    const inReach = box.x0 >= v.box.x0 - reach && box.y0 >= v.box.y0 - reach && box.x1 <= v.box.x1 + reach && box.y1 <= v.box.y1 + reach;
    if (inReach && boxesMeet(box, window)) out.push({ outline, box, seed: rng.u32() });
  }
  const freeLook: BlobLook = { chance: 0.25, radiusUm: [10, 25], elongation: [1, 1.8], roughness: 0.2, vertices: 36 };
  const free = blobsNear(FREE_AGGREGATES, freeLook, scale, window);
  return [...out, ...free];
}
