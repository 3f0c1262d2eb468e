// QuPath GeoJSON as annotators' files hold it, written by hand: a bare array of Features (QuPath 0.2), the older
// classification forms, a class name in another case, a MultiPolygon with a hole, a diagonal edge, a point, a class
// from a YAML map. The label layers must equal an independent pixel-centre rasterisation of the same polygons.
// Then bad input: each a clear error naming the file and the feature.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { ClassMap } from '../../src/annotations/class_map.js';
import { AnnotationError } from '../../src/annotations/errors.js';
import { IGNORE_RGB, type PatchOptions, writePatchDataset } from '../../src/annotations/patches.js';
import { listSlides } from '../../src/cohort/slide_list.js';
import { PyramidalTiffWriter } from '../../src/slides/export/tiff_writer.js';
import { MppError } from '../../src/slides/io/mpp.js';
import { CLASS_TABLE } from '../../src/synth/patch/labels.js';
import { rasterisePolygon } from '../helpers/label_truth.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-qupath-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const W = 640;
let slide: string;

/** A plain grey W x W slide at 0.5 um/px (or without an mpp). */
async function writeSlide(name: string, mpp: number | undefined): Promise<string> {
  const path = join(dir, name);
  const writer = await PyramidalTiffWriter.create(path, { width: W, height: W, channels: 3, tileSize: 128, mpp });
  while (writer.nextBandRows > 0) await writer.writeBand(new Uint8Array(writer.nextBandRows * W * 3).fill(200));
  await writer.close();
  return path;
}

type Ring = [number, number][];
const rect = (x0: number, y0: number, x1: number, y1: number): Ring => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
  [x0, y0],
];
const polygon = (...rings: Ring[]) => ({ type: 'Polygon', coordinates: rings });
const feature = (geometry: unknown, classification: unknown, id?: string) => ({
  type: 'Feature',
  ...(id === undefined ? {} : { id }),
  geometry,
  properties: { objectType: 'annotation', isLocked: false, ...(classification === undefined ? {} : { classification }) },
});

// The shapes, in level-0 pixels of the 640-pixel slide; the ROI holds two 128-pixel patches side by side.
const ROI = rect(100, 100, 356, 228);
const VILLUS_A = [rect(110, 110, 250, 220), rect(150, 140, 200, 190).reverse() as Ring];
const VILLUS_B: Ring = [
  [270, 120],
  [340, 120],
  [300.5, 210.25],
  [270, 120],
];
const FIBRIN = rect(255, 150, 268.5, 226);
const CAPILLARY: Ring = [
  [120, 118],
  [132, 115],
  [141, 124],
  [133, 136],
  [118, 131],
  [120, 118],
];
const KNOT = rect(300, 200, 330, 222);
const NECROSIS = rect(200, 200, 240, 215);

const qupath = [
  // QuPath 0.2: {name, colorRGB}; a ROI by its common name.
  feature(polygon(ROI), { name: 'ROI', colorRGB: -16776961 }, 'roi-1'),
  // Another case, a MultiPolygon whose first part has a hole.
  feature({ type: 'MultiPolygon', coordinates: [VILLUS_A, [VILLUS_B]] }, { name: 'VILLUS', color: [128, 0, 0] }),
  // An old script's plain-string classification.
  feature(polygon(FIBRIN), 'fibrin'),
  // QuPath 0.4's derived-class form with one name.
  feature(polygon(CAPILLARY), { names: ['Capillary'] }),
  // A class only the YAML map knows, and one it skips.
  feature(polygon(KNOT), { name: 'Knot' }),
  feature(polygon(NECROSIS), { name: 'Necrosis' }),
  // A point annotation: labels no pixels.
  feature({ type: 'Point', coordinates: [150, 150] }, { name: 'Villus' }),
];

before(async () => {
  slide = await writeSlide('qupath.tif', 0.5);
  writeFileSync(join(dir, 'qupath.geojson'), JSON.stringify(qupath));
  writeFileSync(join(dir, 'map.yaml'), 'Knot: cellgroup\nNecrosis: skip\n');
});

const BLACK = 'black';
const GREY = 'ignore';
const rgbOf = (name: string): number[] =>
  name === BLACK ? [0, 0, 0] : name === GREY ? [...IGNORE_RGB] : [...CLASS_TABLE.find((c) => c.name === name)!.rgb];

/** Every pixel of every sample's two layers against `want(x, y)`: the raw class names (or 'black') at level-0 (x, y). */
async function assertLayers(out: string, samples: readonly string[], want: (x: number, y: number) => [string, string]): Promise<void> {
  for (const name of samples) {
    const [, x0, y0] = /_x(\d+)_y(\d+)$/.exec(name)!.map(Number) as [number, number, number];
    const layers = await Promise.all(
      ['seml0', 'seml1'].map((l) =>
        sharp(join(out, 'ann', `${name}_${l}.png`))
          .raw()
          .toBuffer(),
      ),
    );
    for (let i = 0; i < 128 * 128; i++) {
      const expected = want(x0 + (i % 128), y0 + Math.floor(i / 128));
      for (const l of [0, 1])
        assert.deepEqual([...layers[l]!.subarray(3 * i, 3 * i + 3)], rgbOf(expected[l]!), `${out} ${name} seml${l} pixel ${i}`);
    }
  }
}

/** The layers the hand-written file describes, by an independent pixel-centre rasterisation (even-odd over rings). */
const qupathTruth = (() => {
  const mask = (...rings: Ring[]) => {
    const m = new Uint8Array(W * W);
    rasterisePolygon(rings, W, W, m);
    assert.ok(m.includes(1), 'every shape covers pixels');
    return m;
  };
  let masks: Uint8Array[] | undefined;
  return (x: number, y: number): [string, string] => {
    masks ??= [mask(...VILLUS_A), mask(VILLUS_B), mask(FIBRIN), mask(CAPILLARY), mask(KNOT)];
    const [villus, villusB, fibrin, capillary, knot] = masks.map((m) => m[y * W + x]);
    return [fibrin ? 'thrombus' : villus || villusB ? 'villi' : BLACK, knot ? 'cellgroup' : capillary ? 'bloodvessel' : BLACK];
  };
})();

const options = (o: Partial<PatchOptions> & { out: string }): PatchOptions => ({
  slides: listSlides(slide),
  mpp: 0.5,
  size: 128,
  classMap: ClassMap.load(join(dir, 'map.yaml')),
  seed: 1,
  ...o,
});

test('a hand-written QuPath GeoJSON imports right: layers equal an independent rasterisation', async () => {
  const notes: string[] = [];
  const out = join(dir, 'ds');
  const result = await writePatchDataset(options({ out, onNote: (l) => notes.push(l) }));
  assert.deepEqual(result.samples.sort(), ['qupath_x100_y100', 'qupath_x228_y100']);
  assert.ok(
    notes.some((n) => /feature 6 .*class 'Villus'.*skipped \(a point or line/.test(n)),
    notes.join('\n'),
  );
  await assertLayers(out, result.samples, qupathTruth);
  // The hole is background, and the skipped class left no trace.
  assert.deepEqual(qupathTruth(175, 165), [BLACK, BLACK]);
});

test("QuPath's 'Ignore*' class cuts its area out of the labelled area: no patch reaches it, or it is marked ignore", async () => {
  const ignore = rect(300, 130, 340, 170);
  const file = join(dir, 'with-ignore.geojson');
  writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features: [...qupath, feature(polygon(ignore), { name: 'Ignore*' })] }));
  const strict = await writePatchDataset(options({ out: join(dir, 'ignore-strict'), annotations: file }));
  assert.deepEqual(strict.samples, ['qupath_x100_y100']);
  const out = join(dir, 'ignore-marked');
  const r = await writePatchDataset(options({ out, annotations: file, minLabelled: 0.5 }));
  assert.deepEqual(r.samples.sort(), ['qupath_x100_y100', 'qupath_x228_y100']);
  await assertLayers(out, ['qupath_x228_y100'], (x, y) => (x >= 300 && x < 340 && y >= 130 && y < 170 ? [GREY, GREY] : qupathTruth(x, y)));
});

describe('bad input: a clear error naming the file and the feature', () => {
  const write = (name: string, features: unknown[]) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify({ type: 'FeatureCollection', features }));
    return path;
  };
  const refused = (annotations: string, pattern: RegExp, o: Partial<PatchOptions> = {}) =>
    assert.rejects(
      writePatchDataset(options({ out: join(dir, 'never'), annotations, ...o })),
      (err: Error) => err instanceof AnnotationError && err.message.startsWith(`${annotations}: `) && pattern.test(err.message),
    );
  const villus = feature(polygon(rect(120, 120, 200, 200)), { name: 'Villus' });

  test('annotations outside the slide (a GeoJSON for another slide)', () =>
    refused(
      write('outside.geojson', [villus, feature(polygon(rect(500, 500, 900, 700)), { name: 'Villus' })]),
      /feature 1 \(class 'Villus'\): reaches .* outside the slide .*640 x 640.*another slide/,
    ));

  test('a self-intersecting polygon is refused, not repaired', () =>
    refused(
      write('bowtie.geojson', [
        villus,
        feature(
          polygon([
            [300, 300],
            [400, 400],
            [400, 300],
            [300, 400],
            [300, 300],
          ]),
          { name: 'Fibrin Deposit' },
          'bow',
        ),
      ]),
      /feature 1 \(id bow, class 'Fibrin Deposit'\): polygon 0 ring 0 crosses or touches itself near .*refused/,
    ));

  test('an empty region: no class annotation in it', () =>
    refused(
      write('empty.geojson', [villus, feature(polygon(rect(400, 400, 600, 600)), { name: 'Region' })]),
      /feature 1 \(class 'Region'\): an empty region/,
    ));

  test('a polygon without area', () =>
    refused(
      write('flat.geojson', [
        feature(
          polygon([
            [10, 10],
            [20, 10],
            [20, 10],
            [10, 10],
          ]),
          { name: 'Villus' },
        ),
      ]),
      /feature 0 \(class 'Villus'\): polygon 0 ring 0 has fewer than 3 distinct points/,
    ));

  test('an unmapped class stops the run unless --ignore-unmapped', async () => {
    const file = write('tumour.geojson', [villus, feature(polygon(rect(300, 300, 340, 340)), { name: 'Tumour' })]);
    await refused(file, /class 'Tumour' \(1 feature\) is not in the class map .*map\.yaml.*--ignore-unmapped/);
    const r = await writePatchDataset(options({ out: join(dir, 'unmapped'), annotations: file, ignoreUnmapped: true, size: 64 }));
    assert.ok(r.samples.length > 0);
  });

  test('a label image of another size (made for another slide)', async () => {
    const png = join(dir, 'other_labels.png');
    await sharp(Buffer.alloc(100 * 80), { raw: { width: 100, height: 80, channels: 1 } })
      .png()
      .toFile(png);
    await refused(png, /the label image is 100 x 80 pixels, the slide .*640 x 640: neither its size nor a reduction of it.*another slide/);
  });

  test('a slide without an mpp (and the override that accepts it)', async () => {
    const bare = await writeSlide('bare.tif', undefined);
    const annotations = join(dir, 'qupath.geojson');
    await assert.rejects(
      writePatchDataset(options({ out: join(dir, 'never'), slides: listSlides(bare), annotations })),
      (err: Error) => err instanceof MppError && err.message.startsWith(`${bare}: `) && /no pixel size.*--slide-mpp/.test(err.message),
    );
    const r = await writePatchDataset(options({ out: join(dir, 'bare'), slides: listSlides(bare), annotations, slideMpp: 0.5 }));
    assert.equal(r.samples.length, 2);
  });
});

test("label images in QuPath's encodings: indices and colours named by the class map", async () => {
  // Villus in [100, 300) x [100, 228), fibrin over its right part from x = 250, a capillary inside at [150, 180)².
  const value = (x: number, y: number) =>
    x >= 150 && x < 180 && y >= 150 && y < 180
      ? 3
      : x >= 250 && x < 300 && y >= 100 && y < 228
        ? 2
        : x >= 100 && x < 300 && y >= 100 && y < 228
          ? 1
          : 0;
  const palette: Record<number, [number, number, number]> = { 0: [0, 0, 0], 1: [200, 0, 0], 2: [10, 200, 10], 3: [0, 0, 250] };
  const indices = Buffer.alloc(W * W);
  const colours = Buffer.alloc(W * W * 3);
  for (let i = 0; i < W * W; i++) {
    indices[i] = value(i % W, Math.floor(i / W));
    colours.set(palette[indices[i]!]!, 3 * i);
  }
  const indexed = join(dir, 'indexed.png');
  const coloured = join(dir, 'coloured.png');
  await sharp(indices, { raw: { width: W, height: W, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toFile(indexed);
  await sharp(colours, { raw: { width: W, height: W, channels: 3 } })
    .png()
    .toFile(coloured);
  const map = join(dir, 'label-map.yaml');
  writeFileSync(
    map,
    "values: { 1: Villus, 2: fibrin, 3: Capillary }\ncolours: { '#c80000': Villus, '#0ac80a': fibrin, '#0000fa': Capillary }\n",
  );
  for (const annotations of [indexed, coloured]) {
    const out = join(dir, `from-${annotations.endsWith('indexed.png') ? 'indices' : 'colours'}`);
    const r = await writePatchDataset(options({ out, annotations, classMap: ClassMap.load(map) }));
    assert.ok(r.samples.length > 0);
    await assertLayers(out, r.samples, (x, y) => {
      const v = value(x, y);
      return [v === 2 ? 'thrombus' : v === 1 ? 'villi' : BLACK, v === 3 ? 'bloodvessel' : BLACK];
    });
  }
  // Without the map's colours, one it does not know is refused, naming the pixel.
  await assert.rejects(
    writePatchDataset(options({ out: join(dir, 'never'), annotations: coloured, classMap: ClassMap.load() })),
    (err: Error) =>
      err instanceof AnnotationError && err.message.startsWith(`${coloured}: colour RGB (200, 0, 0) at pixel (100, 100) is no class`),
  );
});
