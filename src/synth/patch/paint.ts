// Painting a laid-out patch scene: per-pixel dye amounts (haematoxylin, eosin, fibrin, blood) from the class maps,
// then nuclei and red cells (../cells.ts) stamped only where their compartment is, so no paint strays outside its
// label. Cells are placed at random pixels of their compartment; the slide painter places them in its polygons.
import * as cells from '../cells.js';
import { fibres, fractalNoise } from '../noise.js';
import type { SynthRng } from '../prng.js';
import type { DyeMaps } from '../stain.js';
import { BLOODVESSEL, CELLGROUP, type Scene, THROMBUS, type VillusKind } from './layout.js';

const SOLID: cells.NucleusLook = { edge: 0.7, membrane: 1.15, body: 1, stackGain: 0.6, stackCap: 1.6 };
/** Open nuclei: a pale body inside a dark membrane. */
const VESICULAR: cells.NucleusLook = { ...SOLID, membrane: 2, body: 0.45 };
const RED_CELL: cells.RedCellLook = { radius: [2.8, 4], amount: [1.2, 1.6] };

export class Painter {
  private readonly broad: Float32Array;
  private readonly clefts: Float32Array;
  private readonly fibre: Float32Array;
  private readonly grain: Float32Array;
  private readonly lamina: Float32Array;

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
  }

  paint(): void {
    this.paintCompartments();
    this.paintStromaNuclei();
    this.paintTrophoblastNuclei();
    this.paintKnots();
    this.paintCapillaryContents();
    this.paintFibrinCells();
    this.paintMaternalBlood();
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

  /**
   * Adds a nucleus: haematoxylin with a grainy chromatin texture and a darker membrane (much darker for open,
   * vesicular nuclei); `halo` clears the eosin of the cytoplasm around it, as around stromal cells.
   */
  private nucleus(n: cells.Nucleus, where: cells.Where, options: { stack?: boolean; halo?: boolean } = {}): void {
    const { size } = this.s;
    if (options.halo) {
      const E = this.dyes.eosin;
      cells.stampEllipse(size, size, { ...n.e, a: n.e.a * 1.9 + 1, b: n.e.b * 1.9 + 1 }, (i, coverage) => {
        if (where(i)) E[i]! *= 1 - 0.45 * coverage;
      });
    }
    const vesicular = !options.stack && this.rng.chance(0.25);
    const grain = (i: number) => this.grain[i]!;
    cells.stampNucleus(this.dyes.haematoxylin, size, size, n, where, grain, vesicular ? VESICULAR : SOLID, options.stack ?? false);
  }

  private redCell(cx: number, cy: number, where: cells.Where): void {
    const { size, k } = this.s;
    cells.stampRedCell(this.dyes.blood, size, size, this.rng, { cx, cy, k }, RED_CELL, where);
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

  private at(i: number): [number, number] {
    return [(i % this.s.size) + this.rng.uniform(0, 1), Math.floor(i / this.s.size) + this.rng.uniform(0, 1)];
  }

  private paintStromaNuclei(): void {
    const { s, rng } = this;
    const k = s.k;
    const density: Record<VillusKind, number> = { villi: 1, villiu: 0.6, stem: 0.45 };
    const members: number[][] = s.villi.map(() => []);
    for (let i = 0; i < s.n; i++) {
      const v = s.villusId[i]!;
      if (v > 0 && s.level1[i] === 0 && s.edgeDistance[i]! > s.villi[v - 1]!.rim + 1.5 * k) members[v - 1]!.push(i);
    }
    for (const v of s.villi) {
      const pool = members[v.id - 1]!;
      const count = Math.round((pool.length * density[v.kind]) / (24 * k) ** 2);
      for (let c = 0; c < count && pool.length > 0; c++) {
        const [cx, cy] = this.at(pool[rng.int(0, pool.length)]!);
        const a = rng.uniform(2.5, v.kind === 'stem' ? 8.5 : 7.5) * k;
        const b = Math.max(1.5 * k, a / rng.uniform(1, 3.2));
        const e = { cx, cy, a, b, angle: rng.uniform(0, Math.PI) };
        this.nucleus({ e, amount: rng.uniform(0.75, 1.7) }, (i) => s.villusId[i] === v.id && s.level1[i] === 0, { halo: true });
      }
    }
  }

  /** Small round syncytiotrophoblast nuclei lined up in the villus rim. */
  private paintTrophoblastNuclei(): void {
    const { s, rng } = this;
    const k = s.k;
    const rims: number[][] = s.villi.map(() => []);
    for (let i = 0; i < s.n; i++) {
      const v = s.villusId[i]!;
      if (v > 0 && s.level1[i] === 0 && s.edgeDistance[i]! < s.villi[v - 1]!.rim) rims[v - 1]!.push(i);
    }
    for (const v of s.villi) {
      const pool = rims[v.id - 1]!;
      const perimeter = pool.length / Math.max(1, v.rim);
      const count = Math.round(perimeter / ((v.kind === 'stem' ? 40 : 17) * k));
      for (let c = 0; c < count * 3 && pool.length > 0; c++) {
        const i = pool[rng.int(0, pool.length)]!;
        if (this.clefts[i]! < 0.15) continue; // clusters of nuclei along the rim, not an even string of beads
        const [cx, cy] = this.at(i);
        const a = rng.uniform(2.5, 4.2) * k;
        const e = { cx, cy, a, b: a * rng.uniform(0.5, 0.9), angle: this.alongEdge(i) };
        this.nucleus({ e, amount: rng.uniform(0.9, 1.3) }, (i) => s.villusId[i] === v.id);
      }
    }
  }

  /** Trophoblast aggregates: many overlapping dark nuclei packed into the knot. */
  private paintKnots(): void {
    const { s, rng } = this;
    for (const knot of s.knots) {
      const count = cells.aggregateCount(knot.pixels.length, s.k);
      for (let c = 0; c < count; c++) {
        const [cx, cy] = this.at(knot.pixels[rng.int(0, knot.pixels.length)]!);
        this.nucleus(cells.aggregateNucleus(rng, s.k, cx, cy), (i) => s.level1[i] === CELLGROUP, { stack: true });
      }
    }
  }

  /** Flat endothelial nuclei on the capillary wall and red cells in the lumen (some capillaries empty). */
  private paintCapillaryContents(): void {
    const { s, rng } = this;
    const k = s.k;
    for (const cap of s.capillaries) {
      const own: cells.Where = (i) => s.capillaryId[i] === cap.id;
      const wall = cap.pixels.filter((i) => s.capillaryEdgeDistance[i]! < 1.6 * k + 0.5);
      const lumen = cap.pixels.filter((i) => s.capillaryEdgeDistance[i]! >= 1.6 * k + 0.5);
      const endothelial = cells.endothelialCount(rng, cap.radius, k);
      for (let c = 0; c < endothelial && wall.length > 0; c++) {
        const [cx, cy] = this.at(wall[rng.int(0, wall.length)]!);
        const angle = Math.atan2(cy - cap.cy, cx - cap.cx) + Math.PI / 2;
        this.nucleus(cells.endothelialNucleus(rng, k, cx, cy, angle), own);
      }
      const fill = rng.chance(0.2) ? rng.uniform(0, 0.15) : rng.uniform(0.5, 1);
      if (fill > 0.6) {
        // packed red cells: a continuous red lumen under the individual cells
        const R = this.dyes.blood;
        for (const i of lumen) R[i] = (fill - 0.2) * (0.7 + 0.8 * this.grain[i]!);
      }
      const redCells = cells.lumenRedCellCount(fill, lumen.length, k);
      for (let c = 0; c < redCells && lumen.length > 0; c++) {
        const [cx, cy] = this.at(lumen[rng.int(0, lumen.length)]!);
        this.redCell(cx, cy, own);
      }
    }
  }

  /** A few scattered cells embedded in fibrin. */
  private paintFibrinCells(): void {
    const { s, rng } = this;
    for (const deposit of s.fibrin) {
      const count = cells.fibrinCellCount(rng, deposit.pixels.length, s.k);
      for (let c = 0; c < count; c++) {
        const [cx, cy] = this.at(deposit.pixels[rng.int(0, deposit.pixels.length)]!);
        this.nucleus(cells.fibrinCellNucleus(rng, s.k, cx, cy), (i) => s.level0[i] === THROMBUS);
      }
    }
  }

  /** Maternal red cells in the intervillous space: a scattering plus loose clusters. */
  private paintMaternalBlood(): void {
    const { s, rng } = this;
    const k = s.k;
    const space: number[] = [];
    for (let i = 0; i < s.n; i++) if (s.villusId[i] === 0 && s.level0[i] === 0 && s.edgeDistance[i]! > 2 * k) space.push(i);
    if (space.length === 0) return;
    const free: cells.Where = (i) => s.villusId[i] === 0 && s.level0[i] === 0;
    const scattered = Math.round((s.bloodDensity * space.length) / (cells.MATERNAL_BLOOD.SCATTER_UM * k) ** 2);
    for (let c = 0; c < scattered; c++) {
      const [cx, cy] = this.at(space[rng.int(0, space.length)]!);
      this.redCell(cx, cy, free);
    }
    const clusters = Math.round((s.bloodDensity * space.length) / (cells.MATERNAL_BLOOD.CLUSTER_UM * k) ** 2);
    for (let c = 0; c < clusters; c++) {
      const [x0, y0] = this.at(space[rng.int(0, space.length)]!);
      const { spread, cells: count } = cells.bloodCluster(rng, k);
      for (let j = 0; j < count; j++) {
        const cx = x0 + spread * rng.normal();
        const cy = y0 + spread * rng.normal();
        const i = Math.floor(cy) * s.size + Math.floor(cx);
        if (cx >= 0 && cy >= 0 && cx < s.size && cy < s.size && free(i)) this.redCell(cx, cy, free);
      }
    }
  }
}

function smoothstep(lo: number, hi: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - lo) / (hi - lo)));
  return t * t * (3 - 2 * t);
}
