// Independent references for the slide exports: pixel-centre rasterisation of GeoJSON polygons (even-odd
// over all rings) and connected components by flood fill. Written without the run/contour machinery they
// check, pixel by pixel.

/** Fills every pixel whose centre lies inside the polygon (outer ring and holes, even-odd) with 1. */
export function rasterisePolygon(
  rings: readonly (readonly (readonly [number, number])[])[],
  width: number,
  height: number,
  into: Uint8Array,
): void {
  for (let y = 0; y < height; y++) {
    const cy = y + 0.5;
    const crossings: number[] = [];
    for (const ring of rings) {
      for (let i = 0; i + 1 < ring.length; i++) {
        const [x0, y0] = ring[i]!;
        const [x1, y1] = ring[i + 1]!;
        if (y0 <= cy === y1 <= cy) continue;
        crossings.push(x0 + ((cy - y0) / (y1 - y0)) * (x1 - x0));
      }
    }
    crossings.sort((a, b) => a - b);
    for (let k = 0; k + 1 < crossings.length; k += 2) {
      for (let x = Math.max(0, Math.ceil(crossings[k]! - 0.5)); x < width && x + 0.5 < crossings[k + 1]!; x++) into[y * width + x]! ^= 1;
    }
  }
}

/** Connected components of the pixels where `inside` holds, 4- or 8-connected; returns their sizes. */
export function componentSizes(width: number, height: number, inside: (i: number) => boolean, connectivity: 4 | 8 = 4): number[] {
  const seen = new Uint8Array(width * height);
  const sizes: number[] = [];
  const stack: number[] = [];
  const steps =
    connectivity === 4
      ? [
          [1, 0],
          [-1, 0],
          [0, 1],
          [0, -1],
        ]
      : [
          [1, 0],
          [-1, 0],
          [0, 1],
          [0, -1],
          [1, 1],
          [1, -1],
          [-1, 1],
          [-1, -1],
        ];
  for (let start = 0; start < width * height; start++) {
    if (seen[start] || !inside(start)) continue;
    let size = 0;
    seen[start] = 1;
    stack.push(start);
    while (stack.length > 0) {
      const i = stack.pop()!;
      size++;
      const x = i % width;
      const y = (i - x) / width;
      for (const [dx, dy] of steps) {
        const nx = x + dx!;
        const ny = y + dy!;
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const j = ny * width + nx;
        if (!seen[j] && inside(j)) {
          seen[j] = 1;
          stack.push(j);
        }
      }
    }
    sizes.push(size);
  }
  return sizes;
}
