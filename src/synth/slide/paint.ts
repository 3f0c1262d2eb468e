// Paints any window of a synthetic whole slide: its label bits and its RGB. Every pixel is a function of
// the slide seed and its level-0 position only (shapes from layout.ts, textures from noise lattices hashed at
// global coordinates), so windows painted separately tile the slide without seams, and the labels are exactly
// what is drawn. Cells are drawn by the one painter (../paint.ts) the patches use, so slides and patches look
// alike; cells are placed in their objects' polygons, with one stream per object.
import { LABEL_BITS } from '../../data/classes.js';
import * as cells from '../cells.js';
import { Fibres, hash3, LatticeNoise } from '../noise.js';
import { type Look, Painter, type Site } from '../paint.js';
import { SynthRng, synthSeed } from '../prng.js';
import { area, type Box, boxesMeet, forEachSpanIn, grow, type Polygon, pointIn, pointOnRim } from '../shapes.js';
import { randomStain, type Stain, transmittanceStep } from '../stain.js';
import {
  aggregatesNear,
  fibrinNear,
  KNOT_REACH_UM,
  layoutSections,
  type Patch,
  type Scale,
  type Section,
  type Villus,
  villiNear,
} from './layout.js';

const { villus: VILLUS, fibrin: FIBRIN, capillary: CAPILLARY, aggregate: AGGREGATE, tissue: TISSUE } = LABEL_BITS;

/** What a villus pixel is made of, for its dyes. */
enum Zone {
  None = 0,
  Trophoblast = 1,
  TerminalStroma = 2,
  StemStroma = 3,
  CapillaryWall = 4,
  CapillaryLumen = 5,
}

/**
 * The farthest a stamp (nucleus, red cell) reaches beyond its object: 8 um of semi-axis, plus the
 * one-pixel soft edge of stampEllipse (STAMP_EDGE_PX, with a pixel to spare).
 */
const STAMP_REACH_UM = 8;
const STAMP_EDGE_PX = 2;

/** The slide calibration of the cells, tuned against bench:slide (the patch one is ../patch/paint.ts PATCH_LOOK). */
const SLIDE_LOOK: Look<Villus['kind']> = {
  nucleus: { edge: 0.75, membrane: 1.15, body: 1, stackGain: 0.7, stackCap: 2.4 },
  redCell: { radius: [3.2, 4.3], amount: [0.75, 1.05] },
  stroma: {
    spacingUm: 30,
    density: { terminal: 1, stem: 0.45 },
    major: { terminal: [3.5, 6.5], stem: [3.5, 8] },
    minor: (rng, a, k) => Math.min(a, rng.uniform(1.8, 3.2) * k),
    amount: [0.75, 1.15],
    halo: false,
  },
  rim: { spacingUm: { terminal: 11, stem: 30 }, major: [2.3, 3.6], aspect: [0.65, 1], amount: [0.9, 1.3] },
  capillary: { empty: 0.25, full: [0.35, 1] },
};

/** Cells drawn in a polygon, by rejection; a nucleus is drawn even on a miss, to keep the object's stream aligned. */
function polygonSite(poly: Polygon, box: Box): Site {
  return { drawOnMiss: true, pick: (rng) => pointIn(rng, poly, box) };
}

/** Sections and stain of one synthetic slide; paintWindow() renders any part of it. */
export class SlidePainter {
  readonly sections: Section[];
  readonly stain: Stain;
  private readonly scale: Scale;
  /** Slide-wide variation, as the patch generator varies images. */
  private readonly bloodDensity: number;
  private readonly glass: [number, number, number];
  private readonly scratch = new Scratch();

  constructor(
    readonly width: number,
    readonly height: number,
    readonly seed: number,
    readonly mpp: number,
  ) {
    this.scale = { seed, px: 1 / mpp };
    this.sections = layoutSections(width, height, seed);
    const rng = new SynthRng(synthSeed(seed, 0x57a1));
    const stain = randomStain(rng);
    // Bright scanner white behind the glass; the patch stain's white is the intervillous cream of a cropped patch.
    this.glass = [rng.uniform(238, 246), rng.uniform(237, 244), rng.uniform(234, 242)].map(Math.round) as [number, number, number];
    this.stain = { ...stain, background: this.glass };
    this.bloodDensity = rng.uniform(0.2, 1);
  }

  /**
   * Paints the window [x0, x0 + w) x [y0, y0 + h) of level 0: `rgb` gets w*h*3 bytes (RGB, row-major) and
   * `labels` w*h LABEL_BITS values.
   */
  paintWindow(x0: number, y0: number, w: number, h: number, rgb: Uint8Array, labels: Uint8Array): void {
    const n = w * h;
    if (rgb.length < 3 * n || labels.length < n) throw new Error(`paintWindow: buffers too small for a ${w} x ${h} window`);
    const win: Box = { x0, y0, x1: x0 + w, y1: y0 + h };
    labels.fill(0, 0, n);
    for (const s of this.sections) {
      if (!boxesMeet(s.box, win)) continue;
      forEachSpanIn(s.outline, win, (row, a, b) => labels.fill(TISSUE, row * w + a, row * w + b));
    }
    if (!labels.subarray(0, n).includes(TISSUE)) {
      fillPixels(rgb, this.glass, n);
      return;
    }
    new WindowPainter(this.scale, this.stain, this.bloodDensity, win, labels, this.scratch).paint(rgb);
  }
}

/** Per-pixel working arrays of a window, kept between windows so that painting a slide allocates little. */
class Scratch {
  zone = new Uint8Array(0);
  H = new Float32Array(0);
  E = new Float32Array(0);
  F = new Float32Array(0);
  B = new Float32Array(0);

  /** The arrays, at least n long, zeroed over [0, n). */
  take(n: number): this {
    if (this.zone.length < n) {
      this.zone = new Uint8Array(n);
      this.H = new Float32Array(n);
      this.E = new Float32Array(n);
      this.F = new Float32Array(n);
      this.B = new Float32Array(n);
    } else {
      for (const a of [this.zone, this.H, this.E, this.F, this.B]) a.fill(0, 0, n);
    }
    return this;
  }
}

/** The dyes of one window, from its objects; then RGB through the stain. */
class WindowPainter {
  private readonly w: number;
  private readonly n: number;
  private readonly zone: Uint8Array;
  private readonly H: Float32Array;
  private readonly E: Float32Array;
  private readonly F: Float32Array;
  private readonly B: Float32Array;
  private readonly grain: LatticeNoise;
  private readonly cells: Painter<Villus['kind']>;
  private readonly villi: Villus[];
  private readonly allVilli: Villus[];
  private readonly fibrin: Patch[];
  private readonly aggregates: Patch[];
  /** The window grown by a stamp's reach. */
  private readonly reach: Box;

  constructor(
    private readonly scale: Scale,
    private readonly stain: Stain,
    private readonly bloodDensity: number,
    private readonly win: Box,
    private readonly labels: Uint8Array,
    scratch: Scratch,
  ) {
    this.w = win.x1 - win.x0;
    this.n = this.w * (win.y1 - win.y0);
    ({ zone: this.zone, H: this.H, E: this.E, F: this.F, B: this.B } = scratch.take(this.n));
    const grain = new LatticeNoise(scale.seed, 11, Math.max(1, 2.5 * scale.px), win);
    this.grain = grain;
    const w = this.w;
    const dyes = { haematoxylin: this.H, eosin: this.E, fibrin: this.F, blood: this.B };
    const at = (i: number) => grain.at(win.x0 + (i % w) + 0.5, win.y0 + Math.floor(i / w) + 0.5);
    this.cells = new Painter({ x0: win.x0, y0: win.y0, width: w, height: win.y1 - win.y0, k: scale.px }, dyes, SLIDE_LOOK, at);
    // Objects just outside the window still matter: their nuclei and red cells can spill into it.
    const reach = grow(win, STAMP_REACH_UM * scale.px + STAMP_EDGE_PX);
    this.reach = reach;
    this.allVilli = villiNear(scale, grow(reach, KNOT_REACH_UM * scale.px));
    this.villi = this.allVilli.filter((v) => boxesMeet(v.box, reach));
    this.fibrin = fibrinNear(scale, reach);
    this.aggregates = aggregatesNear(scale, this.allVilli, reach);
  }

  paint(rgb: Uint8Array): void {
    this.drawLabels();
    this.paintCompartments();
    this.paintVillusNuclei();
    this.paintCells();
    this.render(rgb);
  }

  /** Label bits and villus zones, in a fixed order: villi, capillaries, fibrin over them, aggregates on top. */
  private drawLabels(): void {
    const { labels, zone, win, w } = this;
    const spans = (poly: Polygon, fn: (i: number) => void) =>
      forEachSpanIn(poly, win, (row, a, b) => {
        for (let i = row * w + a; i < row * w + b; i++) fn(i);
      });
    for (const v of this.villi) {
      spans(v.outline, (i) => {
        if (labels[i]! & TISSUE && zone[i] === Zone.None) zone[i] = Zone.Trophoblast;
      });
    }
    for (const v of this.villi) {
      const stroma = v.kind === 'stem' ? Zone.StemStroma : Zone.TerminalStroma;
      spans(v.core, (i) => {
        if (labels[i]! & TISSUE) zone[i] = stroma;
      });
    }
    for (let i = 0; i < this.n; i++) if (zone[i] !== Zone.None) labels[i]! |= VILLUS;
    for (const v of this.villi) {
      for (const c of v.capillaries) {
        if (!boxesMeet(c.box, win)) continue;
        spans(c.outline, (i) => {
          if (labels[i]! & VILLUS) {
            labels[i]! |= CAPILLARY;
            zone[i] = Zone.CapillaryWall;
          }
        });
        spans(c.lumen, (i) => {
          if (labels[i]! & CAPILLARY) zone[i] = Zone.CapillaryLumen;
        });
      }
    }
    for (const f of this.fibrin) {
      spans(f.outline, (i) => {
        if (!(labels[i]! & TISSUE)) return;
        labels[i] = (labels[i]! & ~(VILLUS | CAPILLARY)) | FIBRIN;
        zone[i] = Zone.None;
      });
    }
    for (const a of this.aggregates) {
      spans(a.outline, (i) => {
        if (labels[i]! & TISSUE) labels[i]! |= AGGREGATE;
      });
    }
  }

  /** Base dyes of each compartment (the slide calibration of ../patch/paint.ts paintCompartments). */
  private paintCompartments(): void {
    const { labels, zone, win, w, grain, H, E, F } = this;
    const px = this.scale.px;
    const seed = this.scale.seed;
    const broad = new LatticeNoise(seed, 12, 120 * px, win);
    const fibre = new Fibres(seed, 13, Math.max(1.5, 7 * px), win);
    const lamina = new Fibres(seed, 16, Math.max(2, 18 * px), win);
    for (let i = 0; i < this.n; i++) {
      const lab = labels[i]!;
      if (!(lab & TISSUE)) continue;
      const row = (i / w) | 0;
      const x = win.x0 + (i - row * w) + 0.5;
      const y = win.y0 + row + 0.5;
      const g = grain.at(x, y);
      const b = broad.at(x, y) - 0.5;
      const z = zone[i]!;
      if (lab & FIBRIN) {
        F[i] = 0.95 + 0.25 * b + 0.12 * lamina.at(x, y) + 0.05 * g;
        E[i] = 0.05;
        H[i] = 0.02;
      } else if (z === Zone.TerminalStroma || z === Zone.StemStroma) {
        const stem = z === Zone.StemStroma;
        E[i] = (stem ? 1.35 : 1) * (0.5 + (stem ? 1.2 : 0.8) * 0.9 * fibre.at(x, y) + 0.35 * b + 0.1 * g);
        H[i] = 0.06 + 0.05 * b;
      } else if (z === Zone.Trophoblast) {
        H[i] = 0.27;
        E[i] = 0.75 + 0.2 * g;
      } else if (z === Zone.CapillaryWall) {
        E[i] = 0.8;
        H[i] = 0.25;
      } else if (z === Zone.CapillaryLumen) {
        E[i] = 0.04 + 0.06 * g;
        H[i] = 0.01;
      } else {
        E[i] = Math.max(0, 0.03 + 0.12 * b);
        H[i] = 0.01;
      }
      if (lab & AGGREGATE && !(lab & CAPILLARY)) {
        E[i] = 0.6 + 0.2 * g;
        H[i] = 0.35 + 0.1 * g;
      }
    }
  }

  /** Stromal nuclei (fibroblast-like, elongated) and the small round nuclei lined up in the trophoblast layer. */
  private paintVillusNuclei(): void {
    const { zone, labels, cells: paint } = this;
    const stromaOf = (i: number) =>
      (zone[i] === Zone.TerminalStroma || zone[i] === Zone.StemStroma) && !(labels[i]! & (FIBRIN | CAPILLARY));
    const rimOf = (i: number) => zone[i] === Zone.Trophoblast && !(labels[i]! & FIBRIN);
    for (const v of this.villi) {
      const rng = new SynthRng(v.seed);
      paint.stromaNuclei(rng, v.kind, area(v.core), polygonSite(v.core, v.box), stromaOf);
      const perimeter = Math.sqrt(4 * Math.PI * area(v.outline)) * 1.1;
      const rim: Site = { drawOnMiss: true, pick: (rng) => pointOnRim(rng, v.outline, v.cx, v.cy, v.rim / 2) };
      paint.rimNuclei(rng, v.kind, perimeter, rim, rimOf);
    }
  }

  /** Each object's cells from its own stream: capillaries, aggregates, fibrin, then the maternal blood. */
  private paintCells(): void {
    const { labels, cells: paint } = this;
    const um = this.scale.px;
    const capillary = (i: number) => (labels[i]! & CAPILLARY) !== 0;
    for (const v of this.villi) {
      for (const cap of v.capillaries) {
        if (!boxesMeet(cap.box, this.reach)) continue;
        const cx = (cap.box.x0 + cap.box.x1) / 2;
        const cy = (cap.box.y0 + cap.box.y1) / 2;
        const radius = Math.sqrt(area(cap.outline) / Math.PI);
        const wall: Site = { drawOnMiss: true, pick: (rng) => pointOnRim(rng, cap.outline, cx, cy, 0.8 * um) };
        const lumen = polygonSite(cap.lumen, cap.box);
        paint.capillary(new SynthRng(cap.seed), { cx, cy, radius, wall, lumen, lumenArea: area(cap.lumen) }, capillary);
      }
    }
    const aggregate = (i: number) => (labels[i]! & AGGREGATE) !== 0 && !(labels[i]! & CAPILLARY);
    for (const a of this.aggregates) paint.aggregate(new SynthRng(a.seed), area(a.outline), polygonSite(a.outline, a.box), aggregate);
    const fibrin = (i: number) => (labels[i]! & FIBRIN) !== 0;
    for (const f of this.fibrin) paint.fibrinCells(new SynthRng(f.seed), area(f.outline), polygonSite(f.outline, f.box), fibrin);
    this.paintMaternalBlood();
  }

  /** Maternal red cells in the intervillous space: a scattering (one chance per 40 um cell) plus loose clusters. */
  private paintMaternalBlood(): void {
    const { labels, win, cells: paint } = this;
    const um = this.scale.px;
    const free = (i: number) => labels[i] === TISSUE;
    const reach = 4.3 * um + STAMP_EDGE_PX; // the largest red cell's radius
    const each = (cellUm: number, salt: number, spread: number, draw: (rng: SynthRng, x: number, y: number) => void) => {
      const cell = cellUm * um;
      const margin = reach + spread;
      for (let gy = Math.floor((win.y0 - margin) / cell); gy <= Math.floor((win.y1 + margin) / cell); gy++) {
        for (let gx = Math.floor((win.x0 - margin) / cell); gx <= Math.floor((win.x1 + margin) / cell); gx++) {
          const rng = new SynthRng(synthSeed(synthSeed(this.scale.seed, salt), (((gy & 0xffff) << 16) | (gx & 0xffff)) >>> 0));
          draw(rng, (gx + rng.next()) * cell, (gy + rng.next()) * cell);
        }
      }
    };
    each(cells.MATERNAL_BLOOD.SCATTER_UM, 21, 0, (rng, x, y) => {
      if (rng.chance(this.bloodDensity)) paint.redCell(rng, x, y, free);
    });
    // Clusters: up to 45 cells spread normally around the cell's point, clipped at 3 sigma so the reach is bounded.
    each(cells.MATERNAL_BLOOD.CLUSTER_UM, 22, 3 * 40 * um, (rng, x, y) => {
      if (rng.chance(this.bloodDensity)) paint.bloodCluster(rng, x, y, free, { clip: 3, freeCentre: false });
    });
  }

  /** Beer-Lambert through the stain, a gentle uneven illumination and sensor noise; glass stays flat white. */
  private render(rgb: Uint8Array): void {
    const { labels, win, w, H, E, F, B, stain } = this;
    const light = new LatticeNoise(this.scale.seed, 31, 1500 * this.scale.px, win);
    const noiseSeed = synthSeed(this.scale.seed, 32);
    const bg = stain.background;
    const [h0, h1, h2] = stain.haematoxylin;
    const [e0, e1, e2] = stain.eosin;
    const [f0, f1, f2] = stain.fibrin;
    const [b0, b1, b2] = stain.blood;
    let lum = 1;
    let lumX = -1;
    let lumY = -1;
    for (let i = 0; i < this.n; i++) {
      const o = 3 * i;
      if (!(labels[i]! & TISSUE)) {
        rgb[o] = bg[0];
        rgb[o + 1] = bg[1];
        rgb[o + 2] = bg[2];
        continue;
      }
      const row = (i / w) | 0;
      const gx = win.x0 + (i - row * w);
      const gy = win.y0 + row;
      // The illumination varies over millimetres: one sample per 16-pixel run of a row is plenty.
      if (gx >> 4 !== lumX || gy !== lumY) {
        lumX = gx >> 4;
        lumY = gy;
        lum = 0.96 + 0.06 * light.at(lumX * 16 + 0.5, gy + 0.5);
      }
      const hh = H[i]!;
      const ee = E[i]!;
      const ff = F[i]!;
      const bb = B[i]!;
      // Sensor noise: a triangular distribution (std ~2.2) from the two halves of one hash.
      const hsh = hash3(noiseSeed, gx, gy);
      const noise = ((hsh & 0xffff) + (hsh >>> 16)) / 65536 - 1;
      rgb[o] = clampByte(bg[0] * lum * transmittanceStep(hh * h0 + ee * e0 + ff * f0 + bb * b0) + 5.4 * noise);
      rgb[o + 1] = clampByte(bg[1] * lum * transmittanceStep(hh * h1 + ee * e1 + ff * f1 + bb * b1) + 5.4 * noise);
      rgb[o + 2] = clampByte(bg[2] * lum * transmittanceStep(hh * h2 + ee * e2 + ff * f2 + bb * b2) + 5.4 * noise);
    }
  }
}

/** Sets the first n RGB pixels to one colour (by doubling copies, far faster than pixel by pixel). */
function fillPixels(rgb: Uint8Array, colour: readonly [number, number, number], n: number): void {
  rgb.set(colour, 0);
  for (let done = 3; done < 3 * n; done *= 2) rgb.copyWithin(done, 0, Math.min(done, 3 * n - done));
}

function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}
