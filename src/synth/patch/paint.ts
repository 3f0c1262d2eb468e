// The patch front end of the painter: per-pixel dye amounts (haematoxylin, eosin, fibrin, blood) from a laid-out
// scene's class maps, then cells through the one painter (../paint.ts), placed at random pixels of their
// compartment (one stream for the whole patch) and stamped only where their compartment is, so no paint strays
// outside its label. The patch calibration (PATCH_LOOK) is tuned against bench:learning.
import * as cells from '../cells.js';
import { fibres, fractalNoise } from '../noise.js';
import { type Look, Painter, poolSite, type Site } from '../paint.js';
import type { SynthRng } from '../prng.js';
import type { DyeMaps } from '../stain.js';
import { BLOODVESSEL, CELLGROUP, type Scene, THROMBUS, type VillusKind } from './layout.js';

const SOLID: cells.NucleusLook = { edge: 0.7, membrane: 1.15, body: 1, stackGain: 0.6, stackCap: 1.6 };

const PATCH_LOOK: Look<VillusKind> = {
  nucleus: SOLID,
  vesicular: { share: 0.25, look: { ...SOLID, membrane: 2, body: 0.45 } },
  redCell: { radius: [2.8, 4], amount: [1.2, 1.6] },
  stroma: {
    spacingUm: 24,
    density: { villi: 1, villiu: 0.6, stem: 0.45 },
    major: { villi: [2.5, 7.5], villiu: [2.5, 7.5], stem: [2.5, 8.5] },
    minor: (rng, a, k) => Math.max(1.5 * k, a / rng.uniform(1, 3.2)),
    amount: [0.75, 1.7],
    halo: true,
  },
  rim: { spacingUm: { villi: 17, villiu: 17, stem: 40 }, major: [2.5, 4.2], aspect: [0.5, 0.9], amount: [0.9, 1.3] },
  capillary: { empty: 0.2, full: [0.5, 1], packedAbove: 0.6 },
};

/** Paints the dyes of a laid-out patch scene, drawing from `rng`. */
export function paintPatch(scene: Scene, dyes: DyeMaps, rng: SynthRng): void {
  new PatchPainter(scene, dyes, rng).paint();
}

class PatchPainter {
  private readonly broad: Float32Array;
  private readonly clefts: Float32Array;
  private readonly fibre: Float32Array;
  private readonly grain: Float32Array;
  private readonly lamina: Float32Array;
  private readonly cells: Painter<VillusKind>;

  constructor(
    private readonly s: Scene,
    private readonly dyes: DyeMaps,
    private readonly rng: SynthRng,
  ) {
    const { size, k } = s;
    this.broad = fractalNoise(rng, size, size, Math.max(4, 120 * k), 3);
    this.clefts = fibres(rng, size, size, Math.max(2, 10 * k));
    this.fibre = fibres(rng, size, size, Math.max(1.5, 4 * k));
    this.grain = fractalNoise(rng, size, size, Math.max(1, 1.5 * k), 2);
    this.lamina = fibres(rng, size, size, Math.max(2, 30 * k));
    const grain = this.grain;
    this.cells = new Painter({ x0: 0, y0: 0, width: size, height: size, k }, dyes, PATCH_LOOK, (i) => grain[i]!);
  }

  paint(): void {
    this.paintCompartments();
    this.paintVillusNuclei();
    this.paintCells();
  }

  private paintCompartments(): void {
    const { s, broad, clefts, fibre, grain, lamina } = this;
    const { haematoxylin: H, eosin: E, fibrin: F } = this.dyes;
    const stroma: Record<VillusKind, { eosin: number; contrast: number; clefts: number }> = {
      villi: { eosin: 1, contrast: 0.7, clefts: 0.75 },
      villiu: { eosin: 0.6, contrast: 0.9, clefts: 1 },
      stem: { eosin: 1.3, contrast: 1, clefts: 0.4 },
    };
    const wall = Math.max(1, 1.6 * s.k);
    for (let i = 0; i < s.n; i++) {
      const b = broad[i]! - 0.5;
      const g = grain[i]! - 0.5;
      const v = s.villusId[i]!;
      if (v > 0) {
        const villus = s.villi[v - 1]!;
        const look = stroma[villus.kind];
        const cleft = smoothstep(0.25, 0.7, clefts[i]!) * look.clefts;
        E[i] = look.eosin * (0.8 + 0.35 * b + look.contrast * fibre[i]! + 0.25 * g) * (1 - 0.7 * cleft);
        H[i] = 0.07 + 0.05 * b + 0.03 * g;
        const d = s.edgeDistance[i]!;
        const rim = villus.rim * (0.6 + 0.8 * clefts[i]!); // the layer thickens and thins along the border
        if (d < rim) {
          // trophoblast layer: denser, purplish cytoplasm, darkest at the brush border
          const t = 1 - d / rim;
          H[i] = 0.1 + 0.18 * t + 0.05 * g;
          E[i] = 0.8 + 0.25 * t + 0.2 * g;
        }
        if (s.level1[i] === BLOODVESSEL) {
          const inWall = s.capillaryEdgeDistance[i]! < wall;
          E[i] = inWall ? 0.85 : 0.05 + 0.1 * grain[i]!;
          H[i] = inWall ? 0.2 : 0.01;
        } else if (s.level1[i] === CELLGROUP) {
          E[i] = 0.7 + 0.2 * g;
          H[i] = 0.3 + 0.1 * g;
        }
      } else if (s.level0[i] === THROMBUS) {
        // fibrin: dense, glassy and nearly structureless, with faint laminations
        F[i] = 1.1 + 0.25 * b + 0.1 * lamina[i]! + 0.05 * g + (s.edgeDistance[i]! < 3 * s.k ? 0.1 : 0);
        E[i] = 0.05;
        H[i] = 0.015;
      } else {
        // intervillous space: nearly clear, with wisps of plasma
        E[i] = Math.max(0, 0.03 + 0.1 * b + 0.03 * g);
        H[i] = 0.01;
      }
    }
  }

  /** Direction of the compartment edge nearest pixel i (across the gradient of the edge distance). */
  private alongEdge(i: number): number {
    const { size, edgeDistance: d } = this.s;
    const x = i % size;
    const y = Math.floor(i / size);
    const gx = (x + 1 < size ? d[i + 1]! : d[i]!) - (x > 0 ? d[i - 1]! : d[i]!);
    const gy = (y + 1 < size ? d[i + size]! : d[i]!) - (y > 0 ? d[i - size]! : d[i]!);
    const angle = Math.atan2(gy, gx) + Math.PI / 2;
    return Number.isFinite(angle) ? angle : 0; // a compartment without an edge in the patch
  }

  /** Stromal nuclei at random pixels of each villus's stroma, trophoblast nuclei in clusters along its rim. */
  private paintVillusNuclei(): void {
    const { s, rng, cells: paint } = this;
    const members: number[][] = s.villi.map(() => []);
    const rims: number[][] = s.villi.map(() => []);
    for (let i = 0; i < s.n; i++) {
      const v = s.villusId[i]!;
      if (v <= 0 || s.level1[i] !== 0) continue;
      const rim = s.villi[v - 1]!.rim;
      if (s.edgeDistance[i]! > rim + 1.5 * s.k) members[v - 1]!.push(i);
      if (s.edgeDistance[i]! < rim) rims[v - 1]!.push(i);
    }
    for (const v of s.villi) {
      const pool = members[v.id - 1]!;
      paint.stromaNuclei(rng, v.kind, pool.length, poolSite(pool, s.size), (i) => s.villusId[i] === v.id && s.level1[i] === 0);
    }
    for (const v of s.villi) {
      const pool = rims[v.id - 1]!;
      // Clusters of nuclei along the rim, not an even string of beads: draws off the clefts' ridges are rejected.
      const site: Site = {
        drawOnMiss: false,
        pick: (rng) => {
          if (pool.length === 0) return undefined;
          const i = pool[rng.int(0, pool.length)]!;
          if (this.clefts[i]! < 0.15) return undefined;
          return [(i % s.size) + rng.uniform(0, 1), Math.floor(i / s.size) + rng.uniform(0, 1), this.alongEdge(i)];
        },
      };
      paint.rimNuclei(rng, v.kind, pool.length / Math.max(1, v.rim), site, (i) => s.villusId[i] === v.id, 3);
    }
  }

  private paintCells(): void {
    const { s, rng, cells: paint } = this;
    const k = s.k;
    for (const knot of s.knots) paint.aggregate(rng, knot.pixels.length, poolSite(knot.pixels, s.size), (i) => s.level1[i] === CELLGROUP);
    for (const cap of s.capillaries) {
      const wall = cap.pixels.filter((i) => s.capillaryEdgeDistance[i]! < 1.6 * k + 0.5);
      const lumen = cap.pixels.filter((i) => s.capillaryEdgeDistance[i]! >= 1.6 * k + 0.5);
      const site = { cx: cap.cx, cy: cap.cy, radius: cap.radius, lumenArea: lumen.length, lumenPixels: lumen };
      paint.capillary(rng, { ...site, wall: poolSite(wall, s.size), lumen: poolSite(lumen, s.size) }, (i) => s.capillaryId[i] === cap.id);
    }
    for (const f of s.fibrin) paint.fibrinCells(rng, f.pixels.length, poolSite(f.pixels, s.size), (i) => s.level0[i] === THROMBUS);
    this.paintMaternalBlood();
  }

  /** Maternal red cells in the intervillous space: a scattering plus loose clusters. */
  private paintMaternalBlood(): void {
    const { s, rng, cells: paint } = this;
    const k = s.k;
    const space: number[] = [];
    for (let i = 0; i < s.n; i++) if (s.villusId[i] === 0 && s.level0[i] === 0 && s.edgeDistance[i]! > 2 * k) space.push(i);
    if (space.length === 0) return;
    const site = poolSite(space, s.size);
    const free: cells.Where = (i) => s.villusId[i] === 0 && s.level0[i] === 0;
    const scattered = Math.round((s.bloodDensity * space.length) / (cells.MATERNAL_BLOOD.SCATTER_UM * k) ** 2);
    paint.redCells(rng, scattered, site, free);
    const clusters = Math.round((s.bloodDensity * space.length) / (cells.MATERNAL_BLOOD.CLUSTER_UM * k) ** 2);
    for (let c = 0; c < clusters; c++) {
      const [x, y] = site.pick(rng)!;
      paint.bloodCluster(rng, x, y, free, { clip: Number.POSITIVE_INFINITY, freeCentre: true });
    }
  }
}

function smoothstep(lo: number, hi: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - lo) / (hi - lo)));
  return t * t * (3 - 2 * t);
}
