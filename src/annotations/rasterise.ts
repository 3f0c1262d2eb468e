// Polygons filled onto a patch's pixel grid by the shared rasteriser (src/polygon_spans.ts). A patch pixel at the
// patch's mpp covers `step` x `step` level-0 pixels; it is sampled at s x s points (s = ceil(step), so at an
// integer step the points are exactly the centres of the level-0 pixels it covers) and a polygon covers the points
// whose centre lies inside it (even-odd over its rings, so holes are holes). At level 0 (step 1) this is the
// pixel-centre rule that gives back a label map traced by mmfd's GeoJSON writer exactly; coarser, a pixel's
// coverage is the share of its level-0 pixels inside.
import { forEachSpanIn } from '../polygon_spans.js';
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
    // On the grid of sample points, whose centres the shared rasteriser tests.
    const rings = polygon.rings.map((ring) => ring.map((v, i) => (v - (i % 2 === 0 ? grid.x0 : grid.y0)) / sub));
    const y0 = Math.max(0, Math.floor((pbox[1] - grid.y0) / sub));
    const win = { x0: 0, y0, x1: sw, y1: Math.min(sh, Math.ceil((pbox[3] - grid.y0) / sub) + 1) };
    forEachSpanIn(rings, win, (row, a, b) => hit.fill(1, (y0 + row) * sw + a, (y0 + row) * sw + b));
  }
  for (let r = 0; r < sh; r++) {
    const out = Math.floor(r / s) * grid.width;
    const row = r * sw;
    for (let c = 0; c < sw; c++) if (hit[row + c]) counts[out + Math.floor(c / s)]!++;
  }
  return counts;
}
