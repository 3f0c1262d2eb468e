// Layout of one synthetic placenta patch, as label geometry only: villi packed into the patch (with knots of
// trophoblast on their borders and capillaries inside), fibrin between them, intervillous space around. Every
// shape is rasterised once into the class maps; paint.ts then paints the dyes from those maps, so the label
// layers are exactly what is drawn. Lengths are in microns (pixels at SYNTH_BASE_MPP) times `k` (the scale
// asked for times a per-image zoom).

import type { SynthRng } from '../prng.js';
import { blob, distanceToRegionEdge, forEachSpan, type Polygon, polygonPixels, scalePolygon } from '../shapes.js';
import { classCode } from './labels.js';

export type VillusKind = 'villi' | 'villiu' | 'stem';

export interface Villus {
  id: number;
  kind: VillusKind;
  cx: number;
  cy: number;
  radius: number;
  outline: Polygon;
  /** Thickness of the trophoblast layer, pixels. */
  rim: number;
}

export interface Region {
  id: number;
  cx: number;
  cy: number;
  radius: number;
  pixels: number[];
}

export const THROMBUS = classCode('thrombus');
export const BLOODVESSEL = classCode('bloodvessel');
export const CELLGROUP = classCode('cellgroup');

export class Scene {
  readonly n: number;
  /** Pixels per micron (SYNTH_BASE_MPP / mpp), times this image's magnification. */
  readonly k: number;
  readonly level0: Uint8Array;
  readonly level1: Uint8Array;
  /** Which villus (1-based) a pixel belongs to, 0 outside villi. */
  readonly villusId: Int32Array;
  /** Which capillary (1-based) a pixel belongs to. */
  readonly capillaryId: Int32Array;
  readonly villi: Villus[] = [];
  readonly knots: Region[] = [];
  readonly fibrin: Region[] = [];
  readonly capillaries: Region[] = [];
  /** Distance to the edge of the pixel's compartment (its villus, fibrin deposit or intervillous space). */
  edgeDistance: Float32Array = new Float32Array(0);
  capillaryEdgeDistance: Float32Array = new Float32Array(0);
  // Per-image variation of the tissue (placenta.ts draws the stain); bloodDensity is the painter's.
  readonly bloodDensity: number;
  private readonly villusScale: number;
  private readonly cover: number;
  private readonly capillaryDensity: number;
  private readonly knotRate: number;

  constructor(
    private readonly rng: SynthRng,
    readonly size: number,
    scale: number,
  ) {
    this.n = size * size;
    this.k = scale * rng.uniform(0.8, 1.25);
    this.villusScale = rng.uniform(0.75, 1.35);
    this.cover = rng.uniform(0.5, 0.85);
    this.capillaryDensity = rng.uniform(0.6, 1.4);
    this.knotRate = rng.uniform(0.08, 0.35);
    this.bloodDensity = rng.uniform(0.2, 1);
    this.level0 = new Uint8Array(this.n);
    this.level1 = new Uint8Array(this.n);
    this.villusId = new Int32Array(this.n);
    this.capillaryId = new Int32Array(this.n);
  }

  layOut(): void {
    // Each step draws from its own stream so that tuning one does not reshuffle the others.
    this.placeVilli(this.rng.fork());
    this.placeKnots(this.rng.fork());
    this.placeFibrin(this.rng.fork());
    const compartment = new Int32Array(this.n);
    for (let i = 0; i < this.n; i++) compartment[i] = this.villusId[i]! > 0 ? this.villusId[i]! + 1 : this.level0[i] === THROMBUS ? 1 : 0;
    this.edgeDistance = distanceToRegionEdge(compartment, this.size, this.size);
    this.placeCapillaries(this.rng.fork());
    this.capillaryEdgeDistance = this.distanceInsideCapillaries();
  }

  /** Distance to the capillary wall for capillary pixels, computed in each capillary's bounding box only (they are small). */
  private distanceInsideCapillaries(): Float32Array {
    const { size } = this;
    const out = new Float32Array(this.n);
    for (const cap of this.capillaries) {
      let [x0, y0, x1, y1] = [size, size, 0, 0];
      for (const i of cap.pixels) {
        const x = i % size;
        const y = Math.floor(i / size);
        [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
      }
      // one pixel of margin so the capillary's edge lies inside the box
      [x0, y0, x1, y1] = [Math.max(0, x0 - 1), Math.max(0, y0 - 1), Math.min(size - 1, x1 + 1), Math.min(size - 1, y1 + 1)];
      const w = x1 - x0 + 1;
      const box = new Int32Array(w * (y1 - y0 + 1));
      for (const i of cap.pixels) box[(Math.floor(i / size) - y0) * w + (i % size) - x0] = 1;
      const d = distanceToRegionEdge(box, w, y1 - y0 + 1);
      for (const i of cap.pixels) out[i] = d[(Math.floor(i / size) - y0) * w + (i % size) - x0]!;
    }
    return out;
  }

  private isBackground(i: number): boolean {
    return this.villusId[i] === 0 && this.level0[i] === 0;
  }

  private placeVilli(rng: SynthRng): void {
    const { k, size } = this;
    let covered = 0;
    if (rng.chance(0.3)) {
      const radius = rng.uniform(140, 220) * k;
      covered += this.addVillus(rng, 'stem', rng.uniform(0, size), rng.uniform(0, size), radius, rng.uniform(2.2, 3.4), 0.08, 0);
    }
    // Aim each new villus at free space and size it to the room there, so villi pack the way they do in tissue.
    const space = new FreeSpace(size, Math.max(2, Math.round(8 * k)), 14 * k);
    space.refresh(this.villusId);
    for (let attempt = 0; attempt < 400 && covered < this.cover * this.n; attempt++) {
      const spot = space.pick(rng);
      if (spot === undefined) break;
      const elongation = 1 + Math.min(1.8, Math.abs(rng.normal()) * 0.6);
      const wanted = Math.min(170, Math.max(24, 62 * this.villusScale * Math.exp(0.45 * rng.normal()))) * k;
      const radius = Math.min(wanted, (spot.room * rng.uniform(1, 1.3)) / elongation ** 0.25);
      const kind: VillusKind = radius > 60 * k && rng.chance(0.12) ? 'villiu' : 'villi';
      const taken = this.addVillus(rng, kind, spot.x, spot.y, radius, elongation, rng.uniform(0.08, 0.2), rng.uniform(0, 4) * k);
      if (taken > 0) {
        covered += taken;
        space.refresh(this.villusId);
      }
    }
  }

  /**
   * Draws a villus (a main blob, sometimes with side buds) where it does not crowd the villi already drawn
   * (`gap` pixels of clearance, a little overlap tolerated). Returns the pixels it took.
   */
  private addVillus(
    rng: SynthRng,
    kind: VillusKind,
    cx: number,
    cy: number,
    radius: number,
    elongation: number,
    roughness: number,
    gap: number,
  ): number {
    const { size } = this;
    const angle = rng.uniform(0, Math.PI);
    const outline = blob(rng, { cx, cy, radius, elongation, angle, roughness });
    const parts: { poly: Polygon; cx: number; cy: number; r: number }[] = [{ poly: outline, cx, cy, r: radius }];
    const buds = kind === 'stem' ? 0 : rng.chance(0.45) ? rng.int(1, 3) : 0;
    for (let b = 0; b < buds; b++) {
      const j = rng.int(0, outline.length / 2);
      const r = radius * rng.uniform(0.35, 0.6);
      const bx = outline[2 * j]! + (outline[2 * j]! - cx) * 0.1;
      const by = outline[2 * j + 1]! + (outline[2 * j + 1]! - cy) * 0.1;
      parts.push({
        poly: blob(rng, { cx: bx, cy: by, radius: r, elongation: rng.uniform(1, 1.8), angle: rng.uniform(0, Math.PI), roughness }),
        cx: bx,
        cy: by,
        r,
      });
    }
    let reach = 0;
    let crowded = 0;
    for (const p of parts) {
      forEachSpan(scalePolygon(p.poly, p.cx, p.cy, 1 + gap / p.r), size, size, (y, x0, x1) => {
        reach += x1 - x0;
        for (let i = y * size + x0; i < y * size + x1; i++) if (this.villusId[i] !== 0) crowded++;
      });
    }
    if (reach === 0 || crowded > 0.08 * reach) return 0;
    const id = this.villi.length + 1;
    const rims: Record<VillusKind, [number, number]> = { villi: [2.5, 5], villiu: [2, 3.5], stem: [1.5, 2.5] };
    const rim = rng.uniform(...rims[kind]) * this.k;
    this.villi.push({ id, kind, cx, cy, radius, outline, rim });
    const code = classCode(kind);
    let taken = 0;
    for (const p of parts) {
      for (const i of polygonPixels(p.poly, size, size)) {
        if (this.villusId[i] !== 0) continue;
        this.villusId[i] = id;
        this.level0[i] = code;
        taken++;
      }
    }
    return taken;
  }

  /** Syncytial knots: dense clusters of trophoblast nuclei bulging from a villus border into the intervillous space. */
  private placeKnots(rng: SynthRng): void {
    const { k, size } = this;
    const hosts = this.villi.filter((v) => v.kind !== 'stem' && v.radius > 30 * k);
    if (hosts.length === 0) return;
    const wanted = Math.max(rng.chance(0.85) ? 1 : 0, Math.round(this.villi.length * this.knotRate));
    for (let attempt = 0; attempt < wanted * 8 && this.knots.length < wanted; attempt++) {
      const v = hosts[rng.int(0, hosts.length)]!;
      const j = rng.int(0, v.outline.length / 2);
      const px = v.outline[2 * j]!;
      const py = v.outline[2 * j + 1]!;
      if (px < 0 || py < 0 || px >= size || py >= size) continue;
      const len = Math.hypot(px - v.cx, py - v.cy) || 1;
      const nx = (px - v.cx) / len;
      const ny = (py - v.cy) / len;
      const r = rng.uniform(8, 18) * k;
      const cx = px + nx * 0.2 * r;
      const cy = py + ny * 0.2 * r;
      const poly = blob(rng, {
        cx,
        cy,
        radius: r,
        elongation: rng.uniform(1.4, 2.4),
        angle: Math.atan2(ny, nx) + Math.PI / 2,
        roughness: 0.2,
        vertices: 36,
      });
      const pixels = polygonPixels(poly, size, size);
      const own = pixels.filter((i) => this.level1[i] === 0 && (this.villusId[i] === v.id || this.isBackground(i)));
      if (pixels.length < 4 || own.length < 0.8 * pixels.length || !own.some((i) => this.villusId[i] === 0)) continue;
      const code = classCode(v.kind);
      for (const i of own) {
        this.villusId[i] = v.id;
        this.level0[i] = code;
        this.level1[i] = CELLGROUP;
      }
      this.knots.push({ id: this.knots.length + 1, cx, cy, radius: r, pixels: own });
    }
  }

  /** Fibrin deposits fill intervillous space between villi or run in from the patch edge; villi stay on top. */
  private placeFibrin(rng: SynthRng): void {
    const { k, size } = this;
    const count = rng.next() < 0.15 ? 0 : rng.int(1, 5);
    for (let attempt = 0; attempt < count * 30 && this.fibrin.length < count; attempt++) {
      let cx: number;
      let cy: number;
      if (rng.chance(0.35)) {
        const along = rng.uniform(0, size);
        const out = rng.uniform(-0.04, 0.08) * size;
        const sides: [number, number][] = [
          [along, -out],
          [along, size + out],
          [-out, along],
          [size + out, along],
        ];
        [cx, cy] = sides[rng.int(0, 4)]!;
      } else {
        const i = rng.int(0, this.n);
        if (!this.isBackground(i)) continue;
        cx = (i % size) + 0.5;
        cy = Math.floor(i / size) + 0.5;
      }
      const radius = rng.uniform(60, 220) * k;
      const poly = blob(rng, { cx, cy, radius, elongation: rng.uniform(1, 2.8), angle: rng.uniform(0, Math.PI), roughness: 0.25 });
      const pixels = polygonPixels(poly, size, size);
      const free = pixels.filter((i) => this.isBackground(i));
      if (free.length < 0.3 * pixels.length || free.length < 100 * k * k) continue;
      for (const i of free) this.level0[i] = THROMBUS;
      this.fibrin.push({ id: this.fibrin.length + 1, cx, cy, radius, pixels: free });
    }
  }

  /** Fetal capillaries inside villi, clear of the trophoblast layer, of knots and of each other. */
  private placeCapillaries(rng: SynthRng): void {
    const { k, size } = this;
    const members = this.pixelsByVillus();
    for (const v of this.villi) {
      const pixels = members[v.id]!;
      const stem = v.kind === 'stem';
      const perArea = stem
        ? 1 / (Math.PI * (70 * k) ** 2)
        : (0.45 * this.capillaryDensity * (v.kind === 'villiu' ? 0.4 : 1)) / (Math.PI * (22 * k) ** 2);
      const wanted = Math.round(pixels.length * perArea) + (stem ? 1 : 0);
      let placed = 0;
      for (let attempt = 0; attempt < wanted * 15 && placed < wanted; attempt++) {
        const i = pixels[rng.int(0, pixels.length)]!;
        const r = (stem ? rng.uniform(14, 30) : rng.chance(0.2) ? rng.uniform(12, 22) : rng.uniform(6, 14)) * k;
        const margin = v.rim + 1.5 * k + 0.5;
        if (this.edgeDistance[i]! < 0.6 * r + margin) continue;
        const cx = (i % size) + 0.5;
        const cy = Math.floor(i / size) + 0.5;
        const poly = blob(rng, {
          cx,
          cy,
          radius: r,
          elongation: rng.uniform(1, 2.2),
          angle: rng.uniform(0, Math.PI),
          roughness: 0.15,
          vertices: 32,
        });
        const inside = polygonPixels(poly, size, size);
        if (inside.length < 3) continue;
        if (!inside.every((p) => this.villusId[p] === v.id && this.level1[p] === 0 && this.edgeDistance[p]! >= margin)) continue;
        const halo = polygonPixels(scalePolygon(poly, cx, cy, 1 + (3 * k + 1) / r), size, size);
        if (!halo.every((p) => this.capillaryId[p] === 0)) continue;
        const id = this.capillaries.length + 1;
        for (const p of inside) {
          this.capillaryId[p] = id;
          this.level1[p] = BLOODVESSEL;
        }
        this.capillaries.push({ id, cx, cy, radius: r, pixels: inside });
        placed++;
      }
    }
  }

  private pixelsByVillus(): number[][] {
    const members: number[][] = this.villi.map(() => []);
    members.push([]);
    for (let i = 0; i < this.n; i++) if (this.villusId[i]! > 0) members[this.villusId[i]!]!.push(i);
    return members;
  }
}

/** Free room on a coarse grid: the free cells with at least `minRoom` pixels to the nearest occupied cell. */
class FreeSpace {
  private readonly cols: number;
  private room: Float32Array = new Float32Array(0);
  private spots: number[] = [];

  constructor(
    private readonly size: number,
    private readonly cell: number,
    private readonly minRoom: number,
  ) {
    this.cols = Math.ceil(size / cell);
  }

  refresh(occupancy: Int32Array): void {
    const { cols, cell, size } = this;
    const taken = new Int32Array(cols * cols);
    for (let r = 0; r < cols; r++) {
      const y = Math.min(size - 1, Math.floor((r + 0.5) * cell));
      for (let c = 0; c < cols; c++)
        taken[r * cols + c] = occupancy[y * size + Math.min(size - 1, Math.floor((c + 0.5) * cell))] === 0 ? 0 : 1;
    }
    this.room = distanceToRegionEdge(taken, cols, cols);
    this.spots = [];
    for (let i = 0; i < taken.length; i++) if (taken[i] === 0 && this.roomAt(i) >= this.minRoom) this.spots.push(i);
  }

  private roomAt(cell: number): number {
    return (this.room[cell]! + 0.5) * this.cell;
  }

  /** A random spot with room, or undefined when the patch is full. */
  pick(rng: SynthRng): { x: number; y: number; room: number } | undefined {
    if (this.spots.length === 0) return undefined;
    const i = this.spots[rng.int(0, this.spots.length)]!;
    return { x: ((i % this.cols) + rng.next()) * this.cell, y: (Math.floor(i / this.cols) + rng.next()) * this.cell, room: this.roomAt(i) };
  }
}
