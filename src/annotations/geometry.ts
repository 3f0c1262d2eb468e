// Polygons as annotations carry them: rings of level-0 slide pixel coordinates (x right, y down, the origin at the
// slide's top-left corner, as QuPath exports them), the first ring the outer boundary and the rest its holes.
// Checks a ring must pass before it is filled: a closed ring of at least three distinct points that does not
// cross or touch itself (the OGC rule QuPath's JTS applies). A self-intersecting ring is refused, not repaired:
// which side of a figure-eight is "inside" is the annotator's call, and QuPath can fix it in place.

/** A ring: flat [x0, y0, x1, y1, ...], not repeating its first point at the end. */
export type Ring = number[];

export interface Polygon {
  /** rings[0] is the outer ring, the rest are holes. */
  rings: Ring[];
}

/** [xmin, ymin, xmax, ymax]. */
export type Box = [number, number, number, number];

export function ringBox(ring: Ring): Box {
  const box: Box = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i < ring.length; i += 2) {
    box[0] = Math.min(box[0], ring[i]!);
    box[1] = Math.min(box[1], ring[i + 1]!);
    box[2] = Math.max(box[2], ring[i]!);
    box[3] = Math.max(box[3], ring[i + 1]!);
  }
  return box;
}

export function unionBox(boxes: readonly Box[]): Box {
  return boxes.reduce<Box>(
    (u, b) => [Math.min(u[0], b[0]), Math.min(u[1], b[1]), Math.max(u[2], b[2]), Math.max(u[3], b[3])],
    [Infinity, Infinity, -Infinity, -Infinity],
  );
}

export const boxesOverlap = (a: Box, b: Box): boolean => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

/** The area a polygon encloses: its outer ring's less its holes'. */
export function polygonArea(p: Polygon): number {
  const ringArea = (r: Ring) => {
    let sum = 0;
    for (let i = 0; i < r.length; i += 2) {
      const j = (i + 2) % r.length;
      sum += r[i]! * r[j + 1]! - r[j]! * r[i + 1]!;
    }
    return Math.abs(sum) / 2;
  };
  return p.rings.reduce((a, r, i) => (i === 0 ? a + ringArea(r) : a - ringArea(r)), 0);
}

/** The ring without its closing point and without repeated consecutive points. */
export function cleanRing(points: readonly (readonly [number, number])[]): Ring {
  const ring: Ring = [];
  for (const [x, y] of points) {
    const n = ring.length;
    if (n >= 2 && ring[n - 2] === x && ring[n - 1] === y) continue;
    ring.push(x, y);
  }
  if (ring.length >= 4 && ring[0] === ring[ring.length - 2] && ring[1] === ring[ring.length - 1]) ring.length -= 2;
  return ring;
}

const orient = (ax: number, ay: number, bx: number, by: number, cx: number, cy: number) => (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
const within = (a: number, b: number, v: number) => Math.min(a, b) <= v && v <= Math.max(a, b);

/** Whether segments p1p2 and p3p4 share any point. */
function segmentsMeet(s: Ring, i: number, j: number, n: number): boolean {
  const [x1, y1, x2, y2] = [s[2 * i]!, s[2 * i + 1]!, s[(2 * i + 2) % n]!, s[(2 * i + 3) % n]!];
  const [x3, y3, x4, y4] = [s[2 * j]!, s[2 * j + 1]!, s[(2 * j + 2) % n]!, s[(2 * j + 3) % n]!];
  const d1 = orient(x3, y3, x4, y4, x1, y1);
  const d2 = orient(x3, y3, x4, y4, x2, y2);
  const d3 = orient(x1, y1, x2, y2, x3, y3);
  const d4 = orient(x1, y1, x2, y2, x4, y4);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  const on = (d: number, px: number, py: number, ax: number, ay: number, bx: number, by: number) =>
    d === 0 && within(ax, bx, px) && within(ay, by, py);
  return (
    on(d1, x1, y1, x3, y3, x4, y4) || on(d2, x2, y2, x3, y3, x4, y4) || on(d3, x3, y3, x1, y1, x2, y2) || on(d4, x4, y4, x1, y1, x2, y2)
  );
}

/** Whether consecutive segments i and i+1 fold back over each other (a spike), beyond their shared point. */
function foldsBack(s: Ring, i: number, n: number): boolean {
  const [ax, ay, bx, by, cx, cy] = [
    s[2 * i]!,
    s[2 * i + 1]!,
    s[(2 * i + 2) % n]!,
    s[(2 * i + 3) % n]!,
    s[(2 * i + 4) % n]!,
    s[(2 * i + 5) % n]!,
  ];
  return orient(ax, ay, bx, by, cx, cy) === 0 && (ax - bx) * (cx - bx) + (ay - by) * (cy - by) > 0;
}

/**
 * Where a ring crosses or touches itself, as a point near it; undefined for a simple ring. Segments are bucketed on
 * a grid so that a ring of many thousands of points (a traced region) is checked in about linear time.
 */
export function selfIntersection(ring: Ring): [number, number] | undefined {
  const n = ring.length;
  const segments = n / 2;
  if (segments < 3) return undefined;
  for (let i = 0; i < segments; i++) if (foldsBack(ring, i, n)) return [ring[(2 * i + 2) % n]!, ring[(2 * i + 3) % n]!];
  const box = ringBox(ring);
  const cells = Math.max(1, Math.ceil(Math.sqrt(segments)));
  const cw = Math.max((box[2] - box[0]) / cells, 1e-9);
  const ch = Math.max((box[3] - box[1]) / cells, 1e-9);
  const cellOf = (v: number, lo: number, size: number) => Math.min(cells - 1, Math.max(0, Math.floor((v - lo) / size)));
  const buckets = new Map<number, number[]>();
  for (let i = 0; i < segments; i++) {
    const [x1, y1, x2, y2] = [ring[2 * i]!, ring[2 * i + 1]!, ring[(2 * i + 2) % n]!, ring[(2 * i + 3) % n]!];
    for (let cy = cellOf(Math.min(y1, y2), box[1], ch); cy <= cellOf(Math.max(y1, y2), box[1], ch); cy++) {
      for (let cx = cellOf(Math.min(x1, x2), box[0], cw); cx <= cellOf(Math.max(x1, x2), box[0], cw); cx++) {
        const key = cy * cells + cx;
        const list = buckets.get(key);
        if (list === undefined) buckets.set(key, [i]);
        else list.push(i);
      }
    }
  }
  for (const list of buckets.values()) {
    for (let a = 0; a < list.length; a++) {
      for (let b = a + 1; b < list.length; b++) {
        const [i, j] = [list[a]!, list[b]!];
        const gap = Math.abs(i - j);
        if (gap === 1 || gap === segments - 1) continue; // neighbours share a point; folds were checked above
        if (segmentsMeet(ring, i, j, n)) return [ring[2 * j]!, ring[2 * j + 1]!];
      }
    }
  }
  return undefined;
}
