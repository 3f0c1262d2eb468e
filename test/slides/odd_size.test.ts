// A slide of odd size (1001 x 799 at 0.5 um/px, 64-px tiles) segmented at 1.0 um/px. mmfd's writer stops the
// slide's pyramid before a level that would round (501 x 400 would get OpenSlide's averaged downsample 1.99775, not
// 2), so the slide is read from level 0 and area-averaged 2x into a 501 x 400 label map, whose pixel size must be
// exactly 1.0 um (manifest, TIFF tags, measurements). labels.tif is padded to 502 x 400 for a full pyramid (level 1,
// 2x2 modes with the odd edge column paired with itself) and records 501 x 400; every measurement, GeoJSON vertex
// and area is computed here from the unpadded 501 x 400 grid: the GeoJSON's level-0 vertices whole slide pixels on
// the label grid (multiples of 2, or of 4 traced at label level 1, or the slide's edge where the last label pixel
// reaches past it), and the polygons' areas those of the label pixels.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { Manifest, SegmentSettings } from '../../src/cohort/manifest.js';
import { runCohort } from '../../src/cohort/run.js';
import { networkSegmenter } from '../../src/cohort/segmenter.js';
import { CLASS_STYLES } from '../../src/data/classes.js';
import type { SlideMeasurements } from '../../src/slides/export/measure.js';
import { openLabelTiff } from '../../src/slides/io/label_raster.js';
import { OpenSlide } from '../../src/slides/io/openslide.js';
import { recordedGrid } from '../../src/slides/io/raster_grid.js';
import { writeSyntheticSlide } from '../../src/synth/slide/slide.js';
import { colourPredictor } from '../helpers/colour_predictor.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-odd-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const [W, H] = [1001, 799];
/** Label map size: the slide at 1.0 um/px, rounded up; and as stored, padded to a full pyramid of 256-px tiles. */
const [LW, LH] = [501, 400];
const [PW, PH] = [502, 400];

type Polygon = number[][][];
interface Output {
  manifest: Manifest;
  measurements: SlideMeasurements;
  polygons: { name: string; rings: Polygon }[];
  labels: Uint8Array;
  labelsPath: string;
}

async function segment(out: string, slide: string, geojsonLevel: number): Promise<Output> {
  const settings: SegmentSettings = {
    model: 'student',
    checkpoint: null,
    mpp: null,
    min_object_um2: 20,
    geojson_level: geojsonLevel,
    overlay_level: 0,
    thumbnail_max: 128,
  };
  const segmenter = await networkSegmenter({ model: 'student', checkpoint: null }, () => colourPredictor);
  const [outcome] = await runCohort([{ path: slide, name: 'odd' }], { out, segmenter, settings });
  assert.equal(outcome?.status, 'done', outcome?.error);
  const folder = join(out, 'odd');
  const read = (f: string) => JSON.parse(readFileSync(join(folder, f), 'utf8'));
  const geojson = read('odd.geojson') as {
    features: { geometry: { coordinates: Polygon }; properties: { classification: { name: string } } }[];
  };
  const labelsPath = join(folder, 'labels.tif');
  return {
    manifest: read('manifest.json'),
    measurements: read('measurements.json'),
    polygons: geojson.features.map((f) => ({ name: f.properties.classification.name, rings: f.geometry.coordinates })),
    // The true grid, cropped from the file here (independently of openLabelTiff).
    labels: new Uint8Array(
      await sharp(labelsPath, { page: 0 }).extract({ left: 0, top: 0, width: LW, height: LH }).extractChannel(0).raw().toBuffer(),
    ),
    labelsPath,
  };
}

/** Shoelace area of a closed GeoJSON ring (first position repeated last), unsigned. */
function ringArea(ring: number[][]): number {
  let sum = 0;
  for (let i = 0; i + 1 < ring.length; i++) sum += ring[i]![0]! * ring[i + 1]![1]! - ring[i + 1]![0]! * ring[i]![1]!;
  return Math.abs(sum) / 2;
}

describe('a slide of odd size', () => {
  let slide: string;
  let level0: Output;
  let level1: Output;
  before(async () => {
    slide = (await writeSyntheticSlide({ out: join(dir, 'odd.tif'), width: W, height: H, seed: 5, mpp: 0.5, tileSize: 64 })).slide;
    level0 = await segment(join(dir, 'out0'), slide, 0);
    level1 = await segment(join(dir, 'out1'), slide, 1);
  });

  test('the slide holds only level 0, the padded label map every level, each with a whole downsample', async () => {
    for (const [path, downsamples] of [
      [slide, [1]],
      [level0.labelsPath, [1, 2]],
    ] as const) {
      const s = OpenSlide.open(path);
      try {
        assert.deepEqual(
          s.levels.map((l) => l.downsample),
          downsamples,
        );
      } finally {
        s.close();
      }
    }
    // The stored level 1 read within the true grid is what the pyramid of the unpadded grid holds: 2x2 modes, the
    // odd edge column paired with itself (ties to the earliest of top-left, top-right, bottom-left).
    const made = await openLabelTiff(level0.labelsPath, 1);
    assert.deepEqual([made.width, made.height, made.downsample], [Math.ceil(LW / 2), LH / 2, 2]);
    const rows = await made.readRows(0, made.height);
    let differences = 0;
    for (let y = 0; y < made.height; y++) {
      for (let x = 0; x < made.width; x++) {
        const at = (dx: number, dy: number) => level0.labels[(2 * y + dy) * LW + Math.min(2 * x + dx, LW - 1)]!;
        const block = [at(0, 0), at(1, 0), at(0, 1), at(1, 1)];
        const count = (v: number) => block.filter((u) => u === v).length;
        const mode = block.reduce((best, v) => (count(v) > count(best) ? v : best), block[0]!);
        if (rows[y * made.width + x] !== mode) differences++;
      }
    }
    assert.equal(differences, 0);
  });

  test('the label map is exactly 1.0 um/px: manifest, resolution tags, measurements', async () => {
    assert.deepEqual(level0.manifest.mpp, { slide: 0.5, labels: 1 });
    assert.deepEqual(level0.manifest.label_grid, { width: LW, height: LH, stored: [PW, PH] });
    assert.deepEqual(recordedGrid(level0.labelsPath), { width: LW, height: LH });
    assert.equal(level0.measurements.mpp, 1);
    const labels = OpenSlide.open(level0.labelsPath);
    try {
      assert.deepEqual(labels.dimensions, [PW, PH]);
      assert.ok(Math.abs(labels.mpp!.x - 1) < 1e-9 && Math.abs(labels.mpp!.y - 1) < 1e-9, JSON.stringify(labels.mpp));
    } finally {
      labels.close();
    }
    // Areas are label pixels at 1 um^2 each, counted here from the TIFF.
    const tissue = level0.labels.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
    assert.ok(tissue > 0);
    assert.equal(level0.measurements.tissue_area_mm2, tissue / 1e6);
    // The padding is outside: no tissue, no class.
    const column = new Uint8Array(
      await sharp(level0.labelsPath, { page: 0 })
        .extract({ left: LW, top: 0, width: PW - LW, height: PH })
        .extractChannel(0)
        .raw()
        .toBuffer(),
    );
    assert.ok(column.every((v) => v === 0));
  });

  test('GeoJSON vertices are whole slide pixels on the label grid, the edge where the grid reaches past the slide', () => {
    for (const [out, step] of [
      [level0, 2],
      [level1, 4],
    ] as const) {
      assert.ok(out.polygons.length > 10, `${out.polygons.length} polygons`);
      for (const { rings } of out.polygons)
        for (const ring of rings)
          for (const [x, y] of ring) {
            assert.ok(x! % step === 0 || x === W, `x ${x} (grid step ${step})`);
            assert.ok(y! % step === 0 || y === H, `y ${y} (grid step ${step})`);
          }
    }
  });

  test("each class's polygon area is its label pixels' area, the clipped edge pixels in part", () => {
    for (const style of CLASS_STYLES) {
      // A label pixel is 2 x 2 slide pixels; in the last column only 1 x 2 lie in the slide, the last row 2 x 1, the corner 1.
      let expected = 0;
      for (let y = 0; y < LH; y++)
        for (let x = 0; x < LW; x++)
          if (level0.labels[y * LW + x]! & style.bit) expected += (x === LW - 1 ? 1 : 2) * (y === LH - 1 ? 1 : 2);
      const area = level0.polygons
        .filter((p) => p.name === style.name)
        .reduce((sum, p) => sum + ringArea(p.rings[0]!) - p.rings.slice(1).reduce((holes, r) => holes + ringArea(r), 0), 0);
      assert.equal(area, expected, style.name);
    }
  });
});
