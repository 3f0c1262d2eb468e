// Exact distances on masks: the distance transform and both Hausdorff measures against brute force
// on random masks, and the true HD95 on shapes whose answer is known by construction.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boundary, hausdorffDistance, hd95, type Mask, percentile, squaredDistanceTransform } from '../../src/eval/distance.js';
import { Rng } from '../helpers/prng.js';

function mask(height: number, width: number, inside: (y: number, x: number) => boolean): Mask {
  const data = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = inside(y, x) ? 1 : 0;
  return { data, height, width };
}

const points = (m: Mask): [number, number][] => {
  const out: [number, number][] = [];
  m.data.forEach((v, i) => {
    if (v) out.push([Math.floor(i / m.width), i % m.width]);
  });
  return out;
};

/** min over `to` of the squared distance from (y, x): the O(N^2) definition. */
const bruteSquared = (y: number, x: number, to: [number, number][]) =>
  Math.min(...to.map(([ty, tx]) => (ty - y) ** 2 + (tx - x) ** 2), Number.POSITIVE_INFINITY);

/** Boundary by its definition: a set pixel with a 4-neighbour unset or off the image. */
const bruteBoundary = (m: Mask): Mask =>
  mask(m.height, m.width, (y, x) => {
    const at = (yy: number, xx: number) => yy >= 0 && yy < m.height && xx >= 0 && xx < m.width && m.data[yy * m.width + xx] === 1;
    return at(y, x) && !(at(y - 1, x) && at(y + 1, x) && at(y, x - 1) && at(y, x + 1));
  });

function randomMask(rng: Rng, height: number, width: number): Mask {
  // Blobs plus scattered pixels, so boundaries have holes, corners and isolated points.
  const cy = rng.next() * height;
  const cx = rng.next() * width;
  const r = 1 + (rng.next() * Math.min(height, width)) / 2;
  const noise = rng.next() * 0.2;
  return mask(height, width, (y, x) => (y - cy) ** 2 + (x - cx) ** 2 < r * r !== rng.next() < noise);
}

test('squaredDistanceTransform equals the brute-force squared distance to the nearest set pixel', () => {
  const rng = new Rng(11);
  for (let trial = 0; trial < 25; trial++) {
    const m = randomMask(rng, 3 + Math.floor(rng.next() * 20), 3 + Math.floor(rng.next() * 20));
    const sites = points(m);
    const dist = squaredDistanceTransform(m);
    for (let i = 0; i < dist.length; i++) {
      assert.equal(dist[i], bruteSquared(Math.floor(i / m.width), i % m.width, sites), `trial ${trial}, pixel ${i}`);
    }
  }
  const none = squaredDistanceTransform(mask(4, 5, () => false));
  assert.ok(none.every((v) => v === Number.POSITIVE_INFINITY));
});

test('hausdorffDistance and hd95 equal their O(N^2) definitions on random masks', () => {
  const rng = new Rng(5);
  for (let trial = 0; trial < 25; trial++) {
    const h = 4 + Math.floor(rng.next() * 18);
    const w = 4 + Math.floor(rng.next() * 18);
    const a = randomMask(rng, h, w);
    const b = randomMask(rng, h, w);
    const pa = points(a);
    const pb = points(b);
    if (pa.length === 0 || pb.length === 0) continue;
    const directed = (from: [number, number][], to: [number, number][]) => Math.max(...from.map(([y, x]) => bruteSquared(y, x, to)));
    assert.equal(hausdorffDistance(a, b), Math.sqrt(Math.max(directed(pa, pb), directed(pb, pa))), `trial ${trial}`);

    const ea = points(bruteBoundary(a));
    const eb = points(bruteBoundary(b));
    const pooled = [...ea.map(([y, x]) => Math.sqrt(bruteSquared(y, x, eb))), ...eb.map(([y, x]) => Math.sqrt(bruteSquared(y, x, ea)))];
    pooled.sort((u, v) => u - v);
    const pos = 0.95 * (pooled.length - 1);
    const lo = pooled[Math.floor(pos)]!;
    const hi = pooled[Math.min(Math.floor(pos) + 1, pooled.length - 1)]!;
    const expected = lo + (hi - lo) * (pos - Math.floor(pos));
    assert.ok(Math.abs(hd95(a, b) - expected) <= 1e-12, `trial ${trial}: hd95 ${hd95(a, b)} vs ${expected}`);
  }
});

test('boundary keeps the pixels with a 4-neighbour outside the mask or the image', () => {
  const square = mask(6, 6, (y, x) => y >= 1 && y <= 4 && x >= 1 && x <= 4);
  assert.deepEqual(points(boundary(square)).length, 12); // a 4x4 square: 16 pixels, 2x2 interior
  const full = mask(3, 4, () => true);
  assert.deepEqual(points(boundary(full)), points(mask(3, 4, (y, x) => y !== 1 || x === 0 || x === 3)));
});

test('percentile follows numpy (linear): values from np.percentile(v, 95)', () => {
  assert.equal(percentile(Float64Array.of(4, 2, 1, 3), 95), 3.8499999999999996);
  assert.equal(percentile(Float64Array.of(10, 0), 95), 9.5);
  assert.equal(percentile(Float64Array.of(0.1, 0.7, 0.2, 0.9, 0.3), 95), 0.86);
  assert.equal(percentile(Float64Array.of(3, 1), 95), 2.9);
  assert.equal(percentile(Float64Array.of(7), 95), 7);
});

test('hd95: a square and the same square grown by k px on every side is k; the max Hausdorff is k*sqrt(2)', () => {
  // Every boundary distance is k except at the grown square's corners (2k-1 pixels each, under 5% of
  // the pooled boundary points here), whose distances run up to k*sqrt(2).
  for (const k of [1, 3, 5]) {
    const inner = mask(140, 140, (y, x) => y >= 20 && y < 120 && x >= 20 && x < 120);
    const outer = mask(140, 140, (y, x) => y >= 20 - k && y < 120 + k && x >= 20 - k && x < 120 + k);
    assert.equal(hd95(inner, outer), k);
    assert.equal(hd95(outer, inner), k);
    assert.equal(hausdorffDistance(inner, outer), Math.sqrt(2 * k * k));
  }
});

test('hd95: two full-width lines k rows apart are k apart everywhere', () => {
  for (const k of [1, 4, 9]) {
    const a = mask(40, 64, (y) => y === 10);
    const b = mask(40, 64, (y) => y === 10 + k);
    assert.equal(hd95(a, b), k);
    assert.equal(hausdorffDistance(a, b), k);
  }
});

test('a disc against itself is 0 for both distances', () => {
  const disc = mask(64, 64, (y, x) => (y - 31.5) ** 2 + (x - 30) ** 2 <= 20 ** 2);
  assert.equal(hd95(disc, disc), 0);
  assert.equal(hausdorffDistance(disc, disc), 0);
});

test('one outlier pixel sets the max Hausdorff but not the HD95 (under 5% of boundary points)', () => {
  const square = mask(100, 100, (y, x) => y >= 10 && y < 50 && x >= 10 && x < 50);
  const withOutlier = mask(100, 100, (y, x) => (y >= 10 && y < 50 && x >= 10 && x < 50) || (y === 90 && x === 90));
  // The outlier's nearest square pixel is the corner (49, 49).
  assert.equal(hausdorffDistance(square, withOutlier), Math.sqrt(41 ** 2 + 41 ** 2));
  assert.equal(hd95(square, withOutlier), 0);
});

test('empty masks: both empty is 0, exactly one empty is +Infinity (Hausdorff) and NaN (HD95)', () => {
  const empty = mask(8, 8, () => false);
  const dot = mask(8, 8, (y, x) => y === 3 && x === 4);
  assert.equal(hausdorffDistance(empty, empty), 0);
  assert.equal(hd95(empty, empty), 0);
  assert.equal(hausdorffDistance(dot, empty), Number.POSITIVE_INFINITY);
  assert.equal(hausdorffDistance(empty, dot), Number.POSITIVE_INFINITY);
  assert.ok(Number.isNaN(hd95(dot, empty)));
  assert.ok(Number.isNaN(hd95(empty, dot)));
  assert.throws(
    () =>
      hd95(
        dot,
        mask(8, 9, () => true),
      ),
    /cannot be compared/,
  );
});

test('a 512x512 pair: Hausdorff between one pixel and a disc is the distance to its farthest pixel', () => {
  // Speed is not a test's business (timings depend on the machine's load); the answer at full size is.
  const a = mask(512, 512, (y, x) => y === 3 && x === 5);
  const b = mask(512, 512, (y, x) => (y - 260) ** 2 + (x - 250) ** 2 < 150 ** 2);
  const disc = points(b);
  const farthest = Math.max(...disc.map(([y, x]) => (y - 3) ** 2 + (x - 5) ** 2));
  assert.equal(hausdorffDistance(a, b), Math.sqrt(farthest));
  assert.ok(Number.isFinite(hd95(a, b)));
});
