// Polygon rasterisation shared by the synthetic placenta (src/synth) and imported annotations (src/annotations):
// a pixel belongs to a polygon when its centre lies inside, by the even-odd rule.

/** A closed ring as interleaved x, y vertex coordinates, its first point not repeated at the end. */
export type Ring = ArrayLike<number>;

/** A window [x0, x1) x [y0, y1) of whole pixels. */
export interface Window {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const isRing = (r: Ring | readonly Ring[]): r is Ring => typeof r[0] === 'number' || r.length === 0;

/**
 * Calls visit(row, x0, x1) for every run of pixels [x0, x1) of the window whose centres lie inside the polygon
 * (even-odd rule over all its rings, so holes are holes), with the rings in global coordinates and row, x0, x1
 * relative to the window. Only edges that cross the window's rows are looked at, so a large outline (a tissue
 * section) stays cheap in a thin band. This is the only rasteriser: the synthetic placenta's masks and paint
 * and imported annotations all come from it, so what is labelled is exactly what is drawn.
 */
export function forEachSpanIn(rings: Ring | readonly Ring[], win: Window, visit: (row: number, x0: number, x1: number) => void): void {
  const edges: number[] = [];
  for (const ring of isRing(rings) ? [rings] : rings) {
    const n = ring.length / 2;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const ay = ring[2 * i + 1]!;
      const by = ring[2 * j + 1]!;
      if (Math.max(ay, by) >= win.y0 && Math.min(ay, by) <= win.y1) edges.push(ring[2 * i]!, ay, ring[2 * j]!, by);
    }
  }
  if (edges.length === 0) return;
  const width = win.x1 - win.x0;
  const xs: number[] = [];
  for (let y = win.y0; y < win.y1; y++) {
    const yc = y + 0.5;
    xs.length = 0;
    for (let e = 0; e < edges.length; e += 4) {
      const ay = edges[e + 1]!;
      const by = edges[e + 3]!;
      if (ay <= yc !== by <= yc) xs.push(edges[e]! + ((yc - ay) / (by - ay)) * (edges[e + 2]! - edges[e]!));
    }
    if (xs.length < 2) continue;
    xs.sort((p, q) => p - q);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const xa = Math.max(0, Math.ceil(xs[k]! - 0.5) - win.x0);
      const xb = Math.min(width, Math.ceil(xs[k + 1]! - 0.5) - win.x0);
      if (xb > xa) visit(y - win.y0, xa, xb);
    }
  }
}
