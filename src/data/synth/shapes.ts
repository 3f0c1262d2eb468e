// Geometry for the synthetic placenta: smooth random blob polygons, their exact rasterisation (a pixel
// belongs to a polygon when its centre lies inside, even-odd rule), and a chamfer distance map over a
// region-id map (how far each pixel lies from the edge of its region).
import type { Rng } from './prng.js';

/** A closed polygon as interleaved x, y vertex coordinates in pixels. */
export type Polygon = Float64Array;

export interface BlobOptions {
  cx: number;
  cy: number;
  /** Mean radius in pixels (before elongation). */
  radius: number;
  /** Ratio of the long to the short axis (area is kept). */
  elongation?: number;
  /** Direction of the long axis in radians. */
  angle?: number;
  /** Relative amplitude of the low-order wobbles of the outline. */
  roughness?: number;
  vertices?: number;
}

/** A smooth random closed outline: a circle whose radius wobbles with a few random low harmonics. */
export function blob(rng: Rng, o: BlobOptions): Polygon {
  const n = o.vertices ?? 72;
  const roughness = o.roughness ?? 0.15;
  const harmonics: { amp: number; phase: number; k: number }[] = [];
  for (let k = 2; k <= 7; k++) harmonics.push({ k, amp: (roughness * rng.normal()) / k ** 0.8, phase: rng.uniform(0, 2 * Math.PI) });
  const stretch = Math.sqrt(o.elongation ?? 1);
  const cos = Math.cos(o.angle ?? 0);
  const sin = Math.sin(o.angle ?? 0);
  const poly = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / n;
    let wobble = 1;
    for (const h of harmonics) wobble += h.amp * Math.cos(h.k * t + h.phase);
    const r = o.radius * Math.max(0.35, wobble);
    const u = r * Math.cos(t) * stretch;
    const v = (r * Math.sin(t)) / stretch;
    poly[2 * i] = o.cx + u * cos - v * sin;
    poly[2 * i + 1] = o.cy + u * sin + v * cos;
  }
  return poly;
}

/** The polygon scaled by `factor` about (cx, cy). */
export function scalePolygon(poly: Polygon, cx: number, cy: number, factor: number): Polygon {
  const out = new Float64Array(poly.length);
  for (let i = 0; i < poly.length; i += 2) {
    out[i] = cx + (poly[i]! - cx) * factor;
    out[i + 1] = cy + (poly[i + 1]! - cy) * factor;
  }
  return out;
}

/**
 * Calls visit(y, x0, x1) for every run of pixels [x0, x1) on row y whose centres (x + 0.5, y + 0.5) lie inside the
 * polygon (even-odd rule), clipped to the width x height raster. This is the only rasteriser: masks and paint
 * both come from it, so what is labelled is exactly what is drawn.
 */
export function forEachSpan(poly: Polygon, width: number, height: number, visit: (y: number, x0: number, x1: number) => void): void {
  const n = poly.length / 2;
  let minY = Number.POSITIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  for (let i = 1; i < poly.length; i += 2) {
    minY = Math.min(minY, poly[i]!);
    maxY = Math.max(maxY, poly[i]!);
  }
  const y0 = Math.max(0, Math.ceil(minY - 0.5));
  const y1 = Math.min(height - 1, Math.floor(maxY - 0.5));
  const xs: number[] = [];
  for (let y = y0; y <= y1; y++) {
    const yc = y + 0.5;
    xs.length = 0;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const ay = poly[2 * i + 1]!;
      const by = poly[2 * j + 1]!;
      if (ay <= yc !== by <= yc) {
        const ax = poly[2 * i]!;
        const bx = poly[2 * j]!;
        xs.push(ax + ((yc - ay) / (by - ay)) * (bx - ax));
      }
    }
    xs.sort((p, q) => p - q);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const xa = Math.max(0, Math.ceil(xs[k]! - 0.5));
      const xb = Math.min(width, Math.ceil(xs[k + 1]! - 0.5));
      if (xb > xa) visit(y, xa, xb);
    }
  }
}

/** Indices (y * width + x) of the pixels inside the polygon. */
export function polygonPixels(poly: Polygon, width: number, height: number): number[] {
  const out: number[] = [];
  forEachSpan(poly, width, height, (y, x0, x1) => {
    for (let x = x0; x < x1; x++) out.push(y * width + x);
  });
  return out;
}

/**
 * For every pixel, the chamfer distance (steps 1 and sqrt 2) to the nearest pixel of a different region in `ids`,
 * measured from the shared edge (a pixel touching another region is 0.5 away). The raster border is not an edge:
 * regions are cut by the patch, not ended by it. A region that fills the raster gets +Infinity.
 */
export function distanceToRegionEdge(ids: Int32Array, width: number, height: number): Float32Array {
  const d = new Float32Array(width * height).fill(Number.POSITIVE_INFINITY);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const id = ids[i];
      if (
        (x > 0 && ids[i - 1] !== id) ||
        (x < width - 1 && ids[i + 1] !== id) ||
        (y > 0 && ids[i - width] !== id) ||
        (y < height - 1 && ids[i + width] !== id)
      )
        d[i] = 0.5;
    }
  }
  // Two chamfer sweeps; a pixel only takes distances through its own region.
  const diag = Math.SQRT2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const id = ids[i];
      let best = d[i]!;
      if (x > 0 && ids[i - 1] === id) best = Math.min(best, d[i - 1]! + 1);
      if (y > 0) {
        const u = i - width;
        if (ids[u] === id) best = Math.min(best, d[u]! + 1);
        if (x > 0 && ids[u - 1] === id) best = Math.min(best, d[u - 1]! + diag);
        if (x < width - 1 && ids[u + 1] === id) best = Math.min(best, d[u + 1]! + diag);
      }
      d[i] = best;
    }
  }
  for (let y = height - 1; y >= 0; y--) {
    for (let x = width - 1; x >= 0; x--) {
      const i = y * width + x;
      const id = ids[i];
      let best = d[i]!;
      if (x < width - 1 && ids[i + 1] === id) best = Math.min(best, d[i + 1]! + 1);
      if (y < height - 1) {
        const b = i + width;
        if (ids[b] === id) best = Math.min(best, d[b]! + 1);
        if (x < width - 1 && ids[b + 1] === id) best = Math.min(best, d[b + 1]! + diag);
        if (x > 0 && ids[b - 1] === id) best = Math.min(best, d[b - 1]! + diag);
      }
      d[i] = best;
    }
  }
  return d;
}
