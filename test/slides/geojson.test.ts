// The GeoJSON export against the label map it came from: every class's polygons, filled at pixel centres
// (holes by even-odd), give back that class's pixels exactly; one feature per 4-connected region (counted
// here by flood fill); rings are closed, simple, outer rings positive and holes negative; the properties are
// QuPath's. Hand-made shapes cover holes, pinches and islands; random masks and a synthetic slide's truth
// cover the rest.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import { FINAL_CLASSES } from '../../src/data/classes.js';
import { ringArea2 } from '../../src/slides/export/contours.js';
import { writeGeoJson } from '../../src/slides/export/geojson.js';
import { type LabelRaster, labelRasterFromArray, openLabelTiff } from '../../src/slides/io/label_raster.js';
import { writeSyntheticSlide } from '../../src/synth/slide/slide.js';
import { componentSizes, rasterisePolygon } from '../helpers/label_truth.js';
import { Rng } from '../helpers/prng.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-geojson-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Position = [number, number];
interface Feature {
  type: string;
  geometry: { type: string; coordinates: Position[][] };
  properties: { objectType: string; classification: { name: string; color: number[] } };
}
interface Collection {
  type: string;
  features: Feature[];
}

let files = 0;
async function exportGeoJson(raster: LabelRaster, options = {}): Promise<Collection> {
  const path = join(dir, `out${files++}.geojson`);
  await writeGeoJson(raster, path, options);
  return JSON.parse(readFileSync(path, 'utf8')) as Collection;
}

/** Labels from a picture: one string per row, a character per pixel holding its bit flags as a hex digit. */
function picture(rows: string[]): { data: Uint8Array; width: number; height: number } {
  const width = rows[0]!.length;
  const data = new Uint8Array(width * rows.length);
  rows.forEach((row, y) => {
    for (let x = 0; x < width; x++) data[y * width + x] = row[x] === '.' ? 0 : Number.parseInt(row[x]!, 16);
  });
  return { data, width, height: rows.length };
}

/** A ring rotated to start at its top-left-most position, so rings compare whatever vertex they start at. */
function fromTopLeft(ring: Position[]): Position[] {
  const open = ring.slice(0, -1);
  let first = 0;
  open.forEach(([x, y], i) => {
    const [bx, by] = open[first]!;
    if (y < by || (y === by && x < bx)) first = i;
  });
  const rotated = [...open.slice(first), ...open.slice(0, first)];
  return [...rotated, rotated[0]!];
}

/** Checks the collection against the labels class by class; returns the features and holes per class. */
function checkRoundTrip(collection: Collection, data: Uint8Array, width: number, height: number): { features: number; holes: number }[] {
  assert.equal(collection.type, 'FeatureCollection');
  return FINAL_CLASSES.map((cls, c) => {
    const features = collection.features.filter((f) => f.properties.classification.name === cls.display);
    const filled = new Uint8Array(width * height);
    for (const f of features) {
      assert.equal(f.type, 'Feature');
      assert.equal(f.geometry.type, 'Polygon');
      assert.equal(f.properties.objectType, 'annotation');
      assert.deepEqual(f.properties.classification.color, [...cls.colour]);
      f.geometry.coordinates.forEach((ring, r) => {
        assert.deepEqual(ring[0], ring.at(-1), 'rings are closed');
        const open = ring.slice(0, -1);
        assert.equal(new Set(open.map((p) => p.join(','))).size, open.length, 'rings are simple');
        const area2 = ringArea2(open.flat());
        assert.ok(r === 0 ? area2 > 0 : area2 < 0, `ring ${r} has the wrong orientation`);
      });
      rasterisePolygon(f.geometry.coordinates, width, height, filled);
    }
    const bit = 1 << c;
    for (let i = 0; i < width * height; i++) {
      if (filled[i] !== ((data[i]! & bit) !== 0 ? 1 : 0))
        assert.fail(`${cls.display}: pixel (${i % width}, ${Math.floor(i / width)}) differs`);
    }
    assert.equal(
      features.length,
      componentSizes(width, height, (i) => (data[i]! & bit) !== 0).length,
      `${cls.display}: one feature per region`,
    );
    return { features: features.length, holes: features.reduce((n, f) => n + f.geometry.coordinates.length - 1, 0) };
  });
}

describe('GeoJSON export', () => {
  test('a square with a hole keeps the hole as an inner ring', async () => {
    const { data, width, height } = picture(['.....', '.111.', '.1.1.', '.111.', '.....']);
    const collection = await exportGeoJson(labelRasterFromArray(data, width, height));
    assert.equal(collection.features.length, 1);
    assert.deepEqual(collection.features[0]!.geometry.coordinates.map(fromTopLeft), [
      [
        [1, 1],
        [4, 1],
        [4, 4],
        [1, 4],
        [1, 1],
      ],
      [
        [2, 2],
        [2, 3],
        [3, 3],
        [3, 2],
        [2, 2],
      ],
    ]);
    checkRoundTrip(collection, data, width, height);
  });

  test('pixels touching at a corner are separate regions; pinched pockets become touching holes', async () => {
    const shapes = [
      ['1.', '.1'],
      ['.1', '1.'],
      // A ring whose pocket opens to the outside only through a corner.
      ['1111.', '1..1.', '1.1..', '11...'],
      // A hole whose two halves meet at a corner.
      ['11111', '1..11', '11..1', '11111'],
      // A checkerboard.
      ['1.1.1', '.1.1.', '1.1.1'],
      // An island in a hole of a region, and another class on top.
      ['3333333', '3.....3', '3.222.3', '3.2.2.3', '3.222.3', '3.....3', '3333333'],
    ];
    for (const rows of shapes) {
      const { data, width, height } = picture(rows);
      checkRoundTrip(await exportGeoJson(labelRasterFromArray(data, width, height)), data, width, height);
    }
  });

  test('random overlapping classes round-trip exactly, across band edges', async () => {
    const rng = new Rng(17);
    let features = 0;
    let holes = 0;
    for (const [width, height, density] of [
      [37, 300, 0.5],
      [64, 513, 0.3],
      [200, 260, 0.7],
    ] as const) {
      // Smoothed noise gives blobs with holes and islands; a per-class threshold makes them overlap.
      const noise = Array.from({ length: 4 }, () => rng.uniform(width * height, 0, 1));
      const data = new Uint8Array(width * height);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          for (let c = 0; c < 4; c++) {
            let sum = 0;
            for (let dy = -1; dy <= 1; dy++)
              for (let dx = -1; dx <= 1; dx++) sum += noise[c]![((y + dy + height) % height) * width + ((x + dx + width) % width)]!;
            if (sum / 9 < density + (c - 1.5) * 0.04) data[y * width + x]! |= 1 << c;
          }
          if (rng.next() < 0.5) data[y * width + x]! |= 16; // the tissue bit is no class
        }
      }
      for (const n of checkRoundTrip(await exportGeoJson(labelRasterFromArray(data, width, height)), data, width, height)) {
        features += n.features;
        holes += n.holes;
      }
    }
    // The masks must exercise both many regions and many holes for the check to mean something.
    assert.ok(features > 1000 && holes > 1000, `${features} features, ${holes} holes`);
  });

  test("a synthetic slide's ground truth round-trips from its label TIFF", async () => {
    const slide = await writeSyntheticSlide({ out: join(dir, 'slide.tif'), width: 900, height: 700, seed: 4, mpp: 1 });
    const raster = await openLabelTiff(slide.labels);
    const data = new Uint8Array(await sharp(slide.labels, { page: 0 }).extractChannel(0).raw().toBuffer());
    const counts = checkRoundTrip(await exportGeoJson(raster), data, raster.width, raster.height);
    assert.ok(counts[0]!.features > 10 && counts[2]!.features > 10, `villi and capillaries found (${JSON.stringify(counts)})`);
  });

  test('a reduced level gives level-0 coordinates on its grid, clipped to the slide', async () => {
    const { data, width, height } = picture(['..1', '.11', '...']);
    const collection = await exportGeoJson(labelRasterFromArray(data, width, height), { scale: 4, slideWidth: 10, slideHeight: 12 });
    assert.deepEqual(fromTopLeft(collection.features[0]!.geometry.coordinates[0]!), [
      [8, 0],
      [10, 0],
      [10, 8],
      [4, 8],
      [4, 4],
      [8, 4],
      [8, 0],
    ]);
  });

  test('a missing or non-label file is an error naming it', async () => {
    await assert.rejects(openLabelTiff(join(dir, 'none.tif')), /none\.tif: no such label map/);
    const rgb = join(dir, 'rgb.tif');
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } })
      .tiff()
      .toFile(rgb);
    await assert.rejects(openLabelTiff(rgb), /rgb\.tif: a label map must have one 8-bit channel/);
    const broken = join(dir, 'broken.tif');
    writeFileSync(broken, readFileSync(rgb).subarray(0, 20));
    await assert.rejects(openLabelTiff(broken), /broken\.tif: not a label TIFF that can be read/);
  });
});
