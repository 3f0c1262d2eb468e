// The one painter of the synthetic placenta: cells into the dye maps of a raster window, for both front ends.
// A front end decides where things are (a patch by its class maps and pixel pools, a slide by polygons with one
// stream per object) and hands the painter Sites to draw points from; the painter decides what is drawn there
// and in which order the random draws come, from a Look (each front end's calibration: sizes, amounts, counts).
// Coordinates are the front end's global ones (a slide's level 0); the window starts at (x0, y0).
import * as cells from './cells.js';
import type { SynthRng } from './prng.js';
import type { DyeMaps } from './stain.js';

/** A point for a cell, and the cell's orientation where the site knows it (along a villus border). */
export type Spot = readonly [x: number, y: number, angle?: number];

/** Where an object's cells go. */
export interface Site {
  /** The next cell's point, or undefined for none this time (an empty pool, a rejected draw, a missed polygon). */
  pick(rng: SynthRng): Spot | undefined;
  /** Whether a nucleus is still drawn (and dropped) on a miss, so that one miss does not shift the cells after it. */
  readonly drawOnMiss: boolean;
}

type Range = readonly [number, number];

/** A front end's calibration of the cells, by villus kind K. */
export interface Look<K extends string> {
  nucleus: cells.NucleusLook;
  /** Share of single nuclei drawn open (a pale body in a dark membrane), and their look. */
  vesicular?: { share: number; look: cells.NucleusLook };
  redCell: cells.RedCellLook;
  stroma: {
    /** One nucleus per (spacingUm)^2 of stroma, times the kind's density. */
    spacingUm: number;
    density: Record<K, number>;
    /** Long semi-axis (um) by kind, the short one from it, and the amount of haematoxylin. */
    major: Record<K, Range>;
    minor: (rng: SynthRng, major: number, k: number) => number;
    amount: Range;
    /** Clear the eosin around each nucleus (the cytoplasm's halo). */
    halo: boolean;
  };
  /** Trophoblast nuclei: one per spacingUm of villus border, small and round. */
  rim: { spacingUm: Record<K, number>; major: Range; aspect: Range; amount: Range };
  /** A capillary is nearly empty with chance `empty`, else filled by a share drawn from `full`; packed red above `packedAbove`. */
  capillary: { empty: number; full: Range; packedAbove?: number };
}

export interface Window {
  x0: number;
  y0: number;
  width: number;
  height: number;
  /** Pixels per micron. */
  k: number;
}

/** A capillary to fill: its centre and radius, points on its wall and in its lumen, the lumen's area. */
export interface Capillary {
  cx: number;
  cy: number;
  radius: number;
  wall: Site;
  lumen: Site;
  lumenArea: number;
  /** The lumen's pixels (window indices), where packed red cells make a continuous red. */
  lumenPixels?: readonly number[];
}

export class Painter<K extends string> {
  constructor(
    private readonly win: Window,
    private readonly dyes: DyeMaps,
    private readonly look: Look<K>,
    /** Chromatin and blood texture in [0, 1] at window pixel i. */
    private readonly grain: (i: number) => number,
  ) {}

  /**
   * Stamps a nucleus given at global coordinates: haematoxylin with a grainy chromatin texture and a darker
   * membrane; `stack` adds to what is there (aggregates); `halo` first clears the eosin of the cytoplasm around it.
   */
  nucleus(rng: SynthRng, n: cells.Nucleus, where: cells.Where, options: { stack?: boolean; halo?: boolean } = {}): void {
    const { x0, y0, width, height } = this.win;
    const e = { ...n.e, cx: n.e.cx - x0, cy: n.e.cy - y0 };
    if (options.halo) {
      const E = this.dyes.eosin;
      cells.stampEllipse(width, height, { ...e, a: e.a * 1.9 + 1, b: e.b * 1.9 + 1 }, (i, coverage) => {
        if (where(i)) E[i]! *= 1 - 0.45 * coverage;
      });
    }
    const stack = options.stack ?? false;
    const open = this.look.vesicular;
    const look = !stack && open !== undefined && rng.chance(open.share) ? open.look : this.look.nucleus;
    cells.stampNucleus(this.dyes.haematoxylin, width, height, { e, amount: n.amount }, where, this.grain, look, stack);
  }

  /** Stamps a red cell at global coordinates. */
  redCell(rng: SynthRng, cx: number, cy: number, where: cells.Where): void {
    const { x0, y0, width, height, k } = this.win;
    cells.stampRedCell(this.dyes.blood, width, height, rng, { cx: cx - x0, cy: cy - y0, k }, this.look.redCell, where);
  }

  /** `count` nuclei made by `make` at points of `site`. */
  nuclei(
    rng: SynthRng,
    count: number,
    site: Site,
    make: (rng: SynthRng, spot: Spot) => cells.Nucleus,
    where: cells.Where,
    options: { stack?: boolean; halo?: boolean } = {},
  ): void {
    for (let c = 0; c < count; c++) {
      const spot = site.pick(rng);
      if (spot === undefined && !site.drawOnMiss) continue;
      const n = make(rng, spot ?? [0, 0]);
      if (spot !== undefined) this.nucleus(rng, n, where, options);
    }
  }

  /** `count` red cells at points of `site`. */
  redCells(rng: SynthRng, count: number, site: Site, where: cells.Where): void {
    for (let c = 0; c < count; c++) {
      const spot = site.pick(rng);
      if (spot !== undefined) this.redCell(rng, spot[0], spot[1], where);
    }
  }

  /** Stromal nuclei (fibroblast-like, elongated) of a villus of `kind` with `area` pixels of stroma. */
  stromaNuclei(rng: SynthRng, kind: K, area: number, site: Site, where: cells.Where): void {
    const { stroma } = this.look;
    const k = this.win.k;
    const count = Math.round((area * stroma.density[kind]) / (stroma.spacingUm * k) ** 2);
    const [lo, hi] = stroma.major[kind];
    const make = (rng: SynthRng, [cx, cy]: Spot): cells.Nucleus => {
      const a = rng.uniform(lo, hi) * k;
      const b = stroma.minor(rng, a, k);
      const e = { cx, cy, a, b, angle: rng.uniform(0, Math.PI) };
      return { e, amount: rng.uniform(stroma.amount[0], stroma.amount[1]) };
    };
    this.nuclei(rng, count, site, make, where, { halo: stroma.halo });
  }

  /** Trophoblast nuclei along `perimeter` pixels of a villus border; `tries` draws per nucleus for a site that rejects. */
  rimNuclei(rng: SynthRng, kind: K, perimeter: number, site: Site, where: cells.Where, tries = 1): void {
    const { rim } = this.look;
    const k = this.win.k;
    const count = Math.round(perimeter / (rim.spacingUm[kind] * k));
    const make = (rng: SynthRng, [cx, cy, along]: Spot): cells.Nucleus => {
      const a = rng.uniform(rim.major[0], rim.major[1]) * k;
      const e = { cx, cy, a, b: a * rng.uniform(rim.aspect[0], rim.aspect[1]), angle: along ?? rng.uniform(0, Math.PI) };
      return { e, amount: rng.uniform(rim.amount[0], rim.amount[1]) };
    };
    this.nuclei(rng, count * tries, site, make, where);
  }

  /** Flat endothelial nuclei on the capillary wall and red cells in the lumen (some capillaries nearly empty). */
  capillary(rng: SynthRng, cap: Capillary, where: cells.Where): void {
    const k = this.win.k;
    const endothelial = cells.endothelialCount(rng, cap.radius, k);
    const flat = (rng: SynthRng, [cx, cy]: Spot) =>
      cells.endothelialNucleus(rng, k, cx, cy, Math.atan2(cy - cap.cy, cx - cap.cx) + Math.PI / 2);
    this.nuclei(rng, endothelial, cap.wall, flat, where);
    const { empty, full, packedAbove } = this.look.capillary;
    const fill = rng.chance(empty) ? rng.uniform(0, 0.15) : rng.uniform(full[0], full[1]);
    if (packedAbove !== undefined && fill > packedAbove && cap.lumenPixels !== undefined) {
      // packed red cells: a continuous red lumen under the individual cells
      const R = this.dyes.blood;
      for (const i of cap.lumenPixels) R[i] = (fill - 0.2) * (0.7 + 0.8 * this.grain(i));
    }
    this.redCells(rng, cells.lumenRedCellCount(fill, cap.lumenArea, k), cap.lumen, where);
  }

  /** A trophoblast aggregate of `area` pixels: many overlapping dark nuclei packed into it. */
  aggregate(rng: SynthRng, area: number, site: Site, where: cells.Where): void {
    const k = this.win.k;
    const make = (rng: SynthRng, [cx, cy]: Spot) => cells.aggregateNucleus(rng, k, cx, cy);
    this.nuclei(rng, cells.aggregateCount(area, k), site, make, where, { stack: true });
  }

  /** A few scattered cells embedded in a fibrin deposit of `area` pixels. */
  fibrinCells(rng: SynthRng, area: number, site: Site, where: cells.Where): void {
    const k = this.win.k;
    const count = cells.fibrinCellCount(rng, area, k);
    this.nuclei(rng, count, site, (rng, [cx, cy]) => cells.fibrinCellNucleus(rng, k, cx, cy), where);
  }

  /**
   * A loose cluster of maternal red cells around (x, y): offsets normal, clipped at `clip` sigma; with `freeCentre`
   * a cell is drawn only where its centre lies in the window on a free pixel.
   */
  bloodCluster(rng: SynthRng, x: number, y: number, where: cells.Where, options: { clip: number; freeCentre: boolean }): void {
    const { x0, y0, width, height } = this.win;
    const { spread, cells: count } = cells.bloodCluster(rng, this.win.k);
    const { clip, freeCentre } = options;
    for (let j = 0; j < count; j++) {
      const cx = x + Math.max(-clip, Math.min(clip, rng.normal())) * spread;
      const cy = y + Math.max(-clip, Math.min(clip, rng.normal())) * spread;
      if (freeCentre) {
        const lx = cx - x0;
        const ly = cy - y0;
        if (!(lx >= 0 && ly >= 0 && lx < width && ly < height && where(Math.floor(ly) * width + Math.floor(lx)))) continue;
      }
      this.redCell(rng, cx, cy, where);
    }
  }
}

/** A site drawing uniformly from a pool of window pixels, at a random point inside the chosen pixel. */
export function poolSite(pool: readonly number[], width: number): Site {
  return {
    drawOnMiss: false,
    pick: (rng) => {
      if (pool.length === 0) return undefined;
      const i = pool[rng.int(0, pool.length)]!;
      return [(i % width) + rng.uniform(0, 1), Math.floor(i / width) + rng.uniform(0, 1)];
    },
  };
}
