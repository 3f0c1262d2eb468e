// Geometry for the synthetic placenta: smooth random blob polygons, their exact rasterisation (a pixel
// belongs to a polygon when its centre lies inside, even-odd rule), random points in and on them, and a
// chamfer distance map over a region-id map (how far each pixel lies from the edge of its region).
import { forEachSpanIn } from '../polygon_spans.js';
import type { SynthRng } from './prng.js';

export { forEachSpanIn };

/** A closed polygon as interleaved x, y vertex coordinates in pixels. */
export type Polygon = Float64Array;

/** An axis-aligned box [x0, x1) x [y0, y1) in pixels. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function boxOf(poly: Polygon): Box {
  const box = { x0: Number.POSITIVE_INFINITY, y0: Number.POSITIVE_INFINITY, x1: Number.NEGATIVE_INFINITY, y1: Number.NEGATIVE_INFINITY };
  for (let i = 0; i < poly.length; i += 2) {
    box.x0 = Math.min(box.x0, poly[i]!);
    box.x1 = Math.max(box.x1, poly[i]!);
    box.y0 = Math.min(box.y0, poly[i + 1]!);
    box.y1 = Math.max(box.y1, poly[i + 1]!);
  }
  return box;
}

export function boxesMeet(a: Box, b: Box): boolean {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

export function grow(b: Box, by: number): Box {
  return { x0: b.x0 - by, y0: b.y0 - by, x1: b.x1 + by, y1: b.y1 + by };
}

export interface BlobOptions {
  cx: number;
  cy: number;
  /** Mean radius in pixels (before elongation). */
  radius: number;
  /** Ratio of the long to the short axis (area is kept). */
  elongation?: number;
  /** Direction of the long axis in radians. */
  angle?: number;
  /** Relative amplitude of the wobbles of the outline. */
  roughness?: number;
  vertices?: number;
  /** The wobbles: harmonics 2..maxHarmonic (default 7), amplitude ~ roughness / k^falloff (default 0.8). */
  maxHarmonic?: number;
  falloff?: number;
  /** The radius never drops below this share of `radius` (default 0.35). */
  minRadius?: number;
}

/** A random closed outline: a circle whose radius wobbles with random harmonics (by default a few low ones: smooth). */
export function blob(rng: SynthRng, o: BlobOptions): Polygon {
  const n = o.vertices ?? 72;
  const roughness = o.roughness ?? 0.15;
  const falloff = o.falloff ?? 0.8;
  const minRadius = o.minRadius ?? 0.35;
  const harmonics: { amp: number; phase: number; k: number }[] = [];
  for (let k = 2; k <= (o.maxHarmonic ?? 7); k++) {
    harmonics.push({ k, amp: (roughness * rng.normal()) / k ** falloff, phase: rng.uniform(0, 2 * Math.PI) });
  }
  const stretch = Math.sqrt(o.elongation ?? 1);
  const cos = Math.cos(o.angle ?? 0);
  const sin = Math.sin(o.angle ?? 0);
  const poly = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / n;
    let wobble = 1;
    for (const h of harmonics) wobble += h.amp * Math.cos(h.k * t + h.phase);
    const r = o.radius * Math.max(minRadius, wobble);
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

/** forEachSpanIn over a whole width x height raster: visit(y, x0, x1). */
export function forEachSpan(poly: Polygon, width: number, height: number, visit: (y: number, x0: number, x1: number) => void): void {
  forEachSpanIn(poly, { x0: 0, y0: 0, x1: width, y1: height }, visit);
}

/** Indices (y * width + x) of the pixels inside the polygon. */
export function polygonPixels(poly: Polygon, width: number, height: number): number[] {
  const out: number[] = [];
  forEachSpan(poly, width, height, (y, x0, x1) => {
    for (let x = x0; x < x1; x++) out.push(y * width + x);
  });
  return out;
}

/** Even-odd point-in-polygon test. */
export function inside(poly: Polygon, x: number, y: number): boolean {
  let odd = false;
  const n = poly.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const ay = poly[2 * i + 1]!;
    const by = poly[2 * j + 1]!;
    if (ay <= y !== by <= y && x < poly[2 * i]! + ((y - ay) / (by - ay)) * (poly[2 * j]! - poly[2 * i]!)) odd = !odd;
  }
  return odd;
}

export function area(poly: Polygon): number {
  let a = 0;
  const n = poly.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) a += poly[2 * j]! * poly[2 * i + 1]! - poly[2 * i]! * poly[2 * j + 1]!;
  return Math.abs(a) / 2;
}

/** A uniformly random point inside `poly` (rejection in `box`), or undefined after a few misses. */
export function pointIn(rng: SynthRng, poly: Polygon, box: Box): [number, number] | undefined {
  for (let t = 0; t < 8; t++) {
    const x = rng.uniform(box.x0, box.x1);
    const y = rng.uniform(box.y0, box.y1);
    if (inside(poly, x, y)) return [x, y];
  }
  return undefined;
}

/** A point `inset` pixels inside a random point of the outline, towards (cx, cy). */
export function pointOnRim(rng: SynthRng, poly: Polygon, cx: number, cy: number, inset: number): [number, number] {
  const j = rng.int(0, poly.length / 2);
  const k = (j + 1) % (poly.length / 2);
  const t = rng.next();
  const x = poly[2 * j]! + t * (poly[2 * k]! - poly[2 * j]!);
  const y = poly[2 * j + 1]! + t * (poly[2 * k + 1]! - poly[2 * j + 1]!);
  const len = Math.hypot(x - cx, y - cy) || 1;
  const f = Math.max(0, 1 - inset / len);
  return [cx + (x - cx) * f, cy + (y - cy) * f];
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
