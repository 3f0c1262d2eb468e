// Polygons filled onto a patch's pixel grid. A patch pixel at the patch's mpp covers `step` x `step` level-0
// pixels; it is sampled at s x s points (s = ceil(step), so at an integer step the points are exactly the centres
// of the level-0 pixels it covers) and a polygon covers the points whose centre lies inside it (even-odd over its
// rings, so holes are holes). At level 0 (step 1) this is the pixel-centre rule that gives back a label map
// traced by mmfd's GeoJSON writer exactly; coarser, a pixel's coverage is the share of its level-0 pixels inside.
import { type Box, boxesOverlap, type Polygon } from './geometry.js';

/** A patch's pixel grid on the slide: its top-left corner and level-0 pixels per patch pixel. */
export interface PatchGrid {
  x0: number;
  y0: number;
  step: number;
  width: number;
  height: number;
}

/** Sample points per axis per patch pixel (at most 8: 64 points decide a pixel to within 1/64 of its area). */
export const samplesPerAxis = (step: number): number => Math.min(8, Math.max(1, Math.ceil(step - 1e-9)));

export const gridBox = (g: PatchGrid): Box => [g.x0, g.y0, g.x0 + g.width * g.step, g.y0 + g.height * g.step];

interface Edge {
  ya: number;
  yb: number;
  xa: number;
  slope: number;
}

/**
 * For each patch pixel, how many of its s x s sample points lie inside the union of the polygons (row-major,
 * width x height). Polygons that miss the grid cost only their bounding-box test.
 */
export function coverage(polygons: readonly { polygon: Polygon; box: Box }[], grid: PatchGrid): Uint16Array {
  const s = samplesPerAxis(grid.step);
  const sub = grid.step / s;
  const [sw, sh] = [grid.width * s, grid.height * s];
  const box = gridBox(grid);
  const counts = new Uint16Array(grid.width * grid.height);
  const near = polygons.filter((p) => boxesOverlap(p.box, box));
  if (near.length === 0) return counts;
  const hit = new Uint8Array(sw * sh);
  for (const { polygon, box: pbox } of near) {
    const edges: Edge[] = [];
    for (const ring of polygon.rings) {
      const n = ring.length;
      for (let i = 0; i < n; i += 2) {
        const [x1, y1, x2, y2] = [ring[i]!, ring[i + 1]!, ring[(i + 2) % n]!, ring[(i + 3) % n]!];
        if (y1 === y2) continue;
        const [xa, ya, yb] = y1 < y2 ? [x1, y1, y2] : [x2, y2, y1];
        edges.push({ ya, yb, xa, slope: (x2 - x1) / (y2 - y1) });
      }
    }
    edges.sort((a, b) => a.ya - b.ya);
    const firstRow = Math.max(0, Math.ceil((pbox[1] - grid.y0) / sub - 0.5));
    const endRow = Math.min(sh, Math.ceil((pbox[3] - grid.y0) / sub - 0.5));
    let next = 0;
    let active: Edge[] = [];
    const crossings: number[] = [];
    for (let r = firstRow; r < endRow; r++) {
      const cy = grid.y0 + (r + 0.5) * sub;
      while (next < edges.length && edges[next]!.ya <= cy) active.push(edges[next++]!);
      active = active.filter((e) => e.yb > cy);
      crossings.length = 0;
      for (const e of active) crossings.push(e.xa + (cy - e.ya) * e.slope);
      crossings.sort((a, b) => a - b);
      const row = r * sw;
      for (let k = 0; k + 1 < crossings.length; k += 2) {
        const c0 = Math.max(0, Math.ceil((crossings[k]! - grid.x0) / sub - 0.5));
        const c1 = Math.min(sw, Math.ceil((crossings[k + 1]! - grid.x0) / sub - 0.5));
        if (c1 > c0) hit.fill(1, row + c0, row + c1);
      }
    }
  }
  for (let r = 0; r < sh; r++) {
    const out = Math.floor(r / s) * grid.width;
    const row = r * sw;
    for (let c = 0; c < sw; c++) if (hit[row + c]) counts[out + Math.floor(c / s)]!++;
  }
  return counts;
}
