// Measurements against truth computed here: discs and rectangles of known count and size drawn into a label
// map, and a synthetic slide's ground truth painted in memory and counted by flood fill. Also the JSON and the
// cohort CSV read back.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { LABEL_BITS } from '../../src/data/classes.js';
import { parseCsv } from '../../src/data/csv.js';
import { COHORT_COLUMNS, measureSlide, writeCohortCsv, writeMeasurementsJson } from '../../src/slides/export/measure.js';
import { labelRasterFromArray, openLabelTiff } from '../../src/slides/io/label_raster.js';
import { SlidePainter } from '../../src/synth/slide/paint.js';
import { writeSyntheticSlide } from '../../src/synth/slide/slide.js';
import { componentSizes } from '../helpers/label_truth.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-measure-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const { villus: VILLUS, fibrin: FIBRIN, capillary: CAPILLARY, aggregate: AGGREGATE, tissue: TISSUE } = LABEL_BITS;
const close = (actual: number | null, expected: number, what: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)), `${what}: ${actual} != ${expected}`);

/** Sets `bits` on the pixels whose centres lie in the disc; returns how many pixels that is. */
function disc(data: Uint8Array, width: number, cx: number, cy: number, r: number, bits: number): number {
  let n = 0;
  for (let y = Math.floor(cy - r); y <= cy + r; y++) {
    for (let x = Math.floor(cx - r); x <= cx + r; x++) {
      if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 < r * r) {
        data[y * width + x]! |= bits;
        n++;
      }
    }
  }
  return n;
}

function rect(data: Uint8Array, width: number, x0: number, y0: number, w: number, h: number, bits: number): number {
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data[y * width + x]! |= bits;
  return w * h;
}

describe('placental measurements', () => {
  test('discs and rectangles of known count and area', async () => {
    const width = 700;
    const height = 600;
    const mpp = 0.5; // 0.25 um^2 per pixel; the default 20 um^2 minimum is 80 pixels
    const mm2 = (px: number) => (px * mpp * mpp) / 1e6;
    const data = new Uint8Array(width * height);
    const tissue = rect(data, width, 20, 20, 660, 560, TISSUE);
    const fibrin = rect(data, width, 500, 400, 150, 120, FIBRIN);
    // Three villi, each with capillaries inside (two of them touching, so one region), and one capillary
    // drawn outside any villus: it still counts as villus area.
    let villus = 0;
    let capillary = 0;
    let regions = 0;
    for (const [cx, cy] of [
      [150, 150],
      [400, 150],
      [150, 400],
    ] as const) {
      villus += disc(data, width, cx, cy, 90, VILLUS);
      for (const [dx, dy] of [
        [-40, 0],
        [40, 0],
        [0, 45],
      ] as const) {
        capillary += disc(data, width, cx + dx, cy + dy, 12, CAPILLARY);
        regions++;
      }
    }
    // Two overlapping capillaries make one region; their union's area is counted on a canvas of their own.
    const pair = new Uint8Array(width * height);
    for (const cx of [400, 415]) {
      disc(data, width, cx, 100, 10, CAPILLARY);
      disc(pair, width, cx, 100, 10, 1);
    }
    capillary += pair.reduce((n, v) => n + v, 0);
    regions++;
    const outside = disc(data, width, 600, 200, 11, CAPILLARY);
    capillary += outside;
    villus += outside;
    regions++;
    // A speck of 3 x 3 pixels (2.25 um^2) inside a villus is area but not counted.
    capillary += rect(data, width, 150, 370, 3, 3, CAPILLARY);
    let aggregate = 0;
    for (const [cx, cy] of [
      [240, 150], // on a villus border
      [300, 300],
      [300, 500],
      [600, 80],
    ] as const)
      aggregate += disc(data, width, cx, cy, 14, AGGREGATE);
    aggregate += rect(data, width, 250, 250, 4, 4, AGGREGATE); // a speck
    assert.ok(
      Math.abs(disc(new Uint8Array(width * height), width, 300, 300, 90, 1) / (Math.PI * 90 * 90) - 1) < 0.01,
      'discs have area pi r^2',
    );

    const m = await measureSlide(labelRasterFromArray(data, width, height), { mpp });
    close(m.tissue_area_mm2, mm2(tissue), 'tissue');
    close(m.tissues.villus!.area_mm2, mm2(villus), 'villus');
    close(m.tissues.capillary!.area_mm2, mm2(capillary), 'capillary');
    close(m.tissues.fibrin_deposit!.area_mm2, mm2(fibrin), 'fibrin');
    close(m.tissues.trophoblast_aggregation!.area_mm2, mm2(aggregate), 'aggregates');
    close(m.tissues.villus!.fraction_of_tissue, villus / tissue, 'villus fraction');
    close(m.capillary_to_villus_area_ratio, capillary / villus, 'capillary/villus');
    assert.equal(m.capillary_count, regions);
    close(m.capillary_density_per_mm2_villus, regions / mm2(villus), 'capillary density');
    assert.equal(m.trophoblast_aggregate_count, 4);
    close(m.trophoblast_aggregate_density_per_mm2_villus, 4 / mm2(villus), 'aggregate density');
    close(m.fibrin_fraction, fibrin / tissue, 'fibrin fraction');
    close(m.capillary_outside_villus_mm2, mm2(outside), 'capillary outside villus');

    // With no minimum size the specks count too.
    const all = await measureSlide(labelRasterFromArray(data, width, height), { mpp, minObjectUm2: 0 });
    assert.equal(all.capillary_count, regions + 1);
    assert.equal(all.trophoblast_aggregate_count, 5);
  });

  test("a synthetic slide's truth, from its label TIFF, against flood-fill counts", async () => {
    const spec = { width: 1300, height: 900, seed: 11, mpp: 1 };
    const slide = await writeSyntheticSlide({ out: join(dir, 'slide.tif'), ...spec });
    const painter = new SlidePainter(spec.width, spec.height, spec.seed, spec.mpp);
    const data = new Uint8Array(spec.width * spec.height);
    painter.paintWindow(0, 0, spec.width, spec.height, new Uint8Array(spec.width * spec.height * 3), data);
    const count = (test: (v: number) => boolean) => data.reduce((n, v) => n + (test(v) ? 1 : 0), 0);
    const m = await measureSlide(await openLabelTiff(slide.labels), { mpp: spec.mpp });
    const tissue = count((v) => v !== 0);
    const villus = count((v) => (v & (VILLUS | CAPILLARY)) !== 0);
    close(m.tissue_area_mm2, tissue / 1e6, 'tissue');
    close(m.tissues.villus!.area_mm2, villus / 1e6, 'villus');
    close(m.tissues.capillary!.area_mm2, count((v) => (v & CAPILLARY) !== 0) / 1e6, 'capillary');
    close(m.fibrin_fraction, count((v) => (v & FIBRIN) !== 0) / tissue, 'fibrin');
    const objects = (bit: number) => componentSizes(spec.width, spec.height, (i) => (data[i]! & bit) !== 0).filter((n) => n >= 20).length;
    const capillaries = objects(CAPILLARY);
    assert.ok(capillaries > 20, `${capillaries} capillaries`);
    assert.equal(m.capillary_count, capillaries);
    assert.equal(m.trophoblast_aggregate_count, objects(AGGREGATE));
    assert.equal(m.pixels.tissue, tissue);
  });

  test('JSON per slide and a cohort CSV, failed slides included', async () => {
    const data = new Uint8Array(100 * 100);
    rect(data, 100, 0, 0, 100, 100, TISSUE);
    disc(data, 100, 50, 50, 30, VILLUS);
    disc(data, 100, 50, 50, 5, CAPILLARY | VILLUS);
    const m = await measureSlide(labelRasterFromArray(data, 100, 100), { mpp: 2 });
    const json = join(dir, 'a.json');
    await writeMeasurementsJson(json, 'a.svs', m);
    assert.deepEqual(JSON.parse(readFileSync(json, 'utf8')), { slide: 'a.svs', ...m });
    const csv = join(dir, 'cohort.csv');
    await writeCohortCsv(csv, [
      { slide: 'a.svs', measurements: m },
      { slide: 'b, broken.svs', error: 'b, broken.svs: not a slide' },
    ]);
    const [header, a, b] = parseCsv(readFileSync(csv, 'utf8'), csv);
    assert.deepEqual(header, ['slide', ...COHORT_COLUMNS.map(([name]) => name), 'error']);
    assert.equal(a![header!.indexOf('capillary_count')], '1');
    assert.equal(Number(a![header!.indexOf('tissue_area_mm2')]), 0.04);
    assert.equal(a![header!.indexOf('fibrin_fraction')], '0');
    assert.equal(a![header!.indexOf('trophoblast_aggregate_density_per_mm2_villus')], '0');
    assert.deepEqual(b, ['b, broken.svs', ...COHORT_COLUMNS.map(() => ''), 'b, broken.svs: not a slide']);
  });

  test('no villus gives null densities; a bad mpp is refused', async () => {
    const m = await measureSlide(labelRasterFromArray(new Uint8Array(16), 4, 4), { mpp: 1 });
    assert.equal(m.tissue_area_mm2, 0);
    assert.equal(m.capillary_density_per_mm2_villus, null);
    assert.equal(m.fibrin_fraction, null);
    await assert.rejects(
      measureSlide(labelRasterFromArray(new Uint8Array(4), 2, 2, 'x.tif'), { mpp: 0 }),
      /x\.tif: mpp must be a positive number/,
    );
  });
});
