// mmfd patches against known truth: a synthetic slide's exact labels written as GeoJSON by mmfd's own writer (plus a
// 'Region' rectangle, as an annotator would draw it) must come back as label layers equal to the truth's pixels:
// exactly at level 0, and at twice the pixel size exactly under the stated rule (a class holds a patch pixel when it
// covers at least half of its level-0 pixels). The label image itself, read as annotations, must give the same.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { ClassMap } from '../../src/annotations/class_map.js';
import { findAnnotations, type PatchOptions, writePatchDataset } from '../../src/annotations/patches.js';
import { listSlides } from '../../src/cohort/slide_list.js';
import { LABEL_BITS } from '../../src/data/classes.js';
import { PmftDataset } from '../../src/data/pmft.js';
import { writeGeoJson } from '../../src/slides/export/geojson.js';
import { openLabelTiff } from '../../src/slides/io/label_raster.js';
import { CLASS_TABLE } from '../../src/synth/patch/labels.js';
import { writeSyntheticSlide } from '../../src/synth/slide/slide.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-patches-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SIZE = 1536;
/** The region an annotator drew: level-0 pixels [256, 1280)². */
const REGION = [256, 1280] as const;
let slide: string;
let labels: string;
let truth: Uint8Array;

const rectangle = (x0: number, y0: number, x1: number, y1: number) => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
  [x0, y0],
];
const feature = (geometry: unknown, classification: unknown, extra: Record<string, unknown> = {}) => ({
  type: 'Feature',
  ...extra,
  geometry,
  properties: { objectType: 'annotation', ...(classification === undefined ? {} : { classification }) },
});

before(async () => {
  // Seed 4 at 1536 px: villi, fibrin, capillaries and aggregates all inside the region.
  const r = await writeSyntheticSlide({ out: join(dir, 'slide.tif'), width: SIZE, height: SIZE, seed: 4 });
  [slide, labels] = [r.slide, r.labels];
  const geo = join(dir, 'traced.geojson');
  await writeGeoJson(await openLabelTiff(labels), geo);
  const doc = JSON.parse(readFileSync(geo, 'utf8')) as { features: unknown[] };
  doc.features.push(
    feature({ type: 'Polygon', coordinates: [rectangle(REGION[0], REGION[0], REGION[1], REGION[1])] }, { name: 'Region*' }),
  );
  writeFileSync(join(dir, 'slide.geojson'), JSON.stringify(doc));
  truth = new Uint8Array(await sharp(labels, { page: 0 }).extractChannel(0).raw().toBuffer());
});

const options = (o: Partial<PatchOptions> & { out: string }): PatchOptions => ({
  slides: listSlides(slide),
  mpp: 0.5,
  size: 256,
  classMap: ClassMap.load(),
  seed: 7,
  ...o,
});

const code = (name: string) => CLASS_TABLE.findIndex((c) => c.name === name);
const rgbCode = (rgb: Uint8Array, i: number) => CLASS_TABLE.findIndex((c) => c.rgb.every((v, j) => v === rgb[3 * i + j]));

/** A sample's two layers as class codes (CLASS_TABLE index, -1 black); any other colour fails. */
async function layerCodes(root: string, name: string): Promise<{ codes: Int8Array[]; x: number; y: number }> {
  const [, x, y] = /_x(\d+)_y(\d+)$/.exec(name)!.map(Number) as [number, number, number];
  const codes = await Promise.all(
    ['seml0', 'seml1'].map(async (layer) => {
      const rgb = new Uint8Array(
        await sharp(join(root, 'ann', `${name}_${layer}.png`))
          .raw()
          .toBuffer(),
      );
      return Int8Array.from({ length: rgb.length / 3 }, (_, i) => {
        const k = rgbCode(rgb, i);
        assert.ok(k >= 0 || (rgb[3 * i] === 0 && rgb[3 * i + 1] === 0 && rgb[3 * i + 2] === 0), `${name} ${layer}: colour at ${i}`);
        return k;
      });
    }),
  );
  return { codes, x, y };
}

/**
 * The truth's layers for a patch at (x, y) of `size` pixels each `step` level-0 pixels wide: per layer, the class
 * covering the most level-0 pixels of the block, if at least half; on a tie the later class (the stated rule).
 */
function truthCodes(x: number, y: number, size: number, step: number): Int8Array[] {
  const layers: [number, number][][] = [
    [
      [LABEL_BITS.villus, code('villi')],
      [LABEL_BITS.fibrin, code('thrombus')],
    ],
    [
      [LABEL_BITS.capillary, code('bloodvessel')],
      [LABEL_BITS.aggregate, code('cellgroup')],
    ],
  ];
  return layers.map((classes) =>
    Int8Array.from({ length: size * size }, (_, i) => {
      const [px, py] = [x + (i % size) * step, y + Math.floor(i / size) * step];
      let best = -1;
      let most = 0;
      for (const [bit, k] of classes) {
        let n = 0;
        for (let dy = 0; dy < step; dy++) for (let dx = 0; dx < step; dx++) if (truth[(py + dy) * SIZE + px + dx]! & bit) n++;
        if (2 * n >= step * step && n >= most) [best, most] = [k, n];
      }
      return best;
    }),
  );
}

async function assertMatchesTruth(root: string, samples: readonly string[], size: number, step: number): Promise<void> {
  for (const name of samples) {
    const { codes, x, y } = await layerCodes(root, name);
    const want = truthCodes(x, y, size, step);
    for (const l of [0, 1]) {
      const diff = codes[l]!.findIndex((v, i) => v !== want[l]![i]);
      assert.equal(diff, -1, `${name} seml${l}: first difference at pixel ${diff}`);
    }
  }
}

describe('round trip: synthetic truth -> GeoJSON -> patches', () => {
  test('at the slide pixel size, the layers equal the truth exactly, and the dataset is a complete PMFT one', async () => {
    const out = join(dir, 'level0');
    const result = await writePatchDataset(options({ out, fewshot: [20] }));
    // A 1024-pixel region holds 4 x 4 patches of 256.
    assert.equal(result.samples.length, 16);
    assert.ok(result.samples.every((s) => /^slide_x(256|512|768|1024)_y(256|512|768|1024)$/.test(s)));
    await assertMatchesTruth(out, result.samples, 256, 1);
    // Every class is present, so the comparison saw all four.
    assert.ok(
      result.slides[0]!.perClass.every((n) => n > 0),
      `patches per class ${result.slides[0]!.perClass}`,
    );
    // The image is the slide's own pixels (JPEG at quality 92: within a few levels on average).
    const name = result.samples[0]!;
    const { x, y } = await layerCodes(out, name);
    const jpg = await sharp(join(out, 'jpg', `${name}.jpg`))
      .raw()
      .toBuffer();
    const ref = await sharp(slide, { page: 0 }).extract({ left: x, top: y, width: 256, height: 256 }).removeAlpha().raw().toBuffer();
    let sum = 0;
    for (let i = 0; i < ref.length; i++) sum += Math.abs(jpg[i]! - ref[i]!);
    assert.ok(sum / ref.length < 4, `mean absolute JPEG difference ${sum / ref.length}`);
    // The dataset opens as mmfd's loader opens it, with its splits; meta_info records the pixel size.
    const ds = PmftDataset.open(out);
    const full = ds.readSplit(ds.splitFile('splits/fewer/fewer_test30', 100), 'train').map((s) => s.name);
    const val = ds.readSplit(ds.splitFile('splits/fewer/fewer_test30', 100), 'val').map((s) => s.name);
    assert.deepEqual([...full, ...val].sort(), [...result.samples].sort());
    assert.equal(ds.readSplit(ds.splitFile('splits/fewer/fewer_test30', 20), 'train').length, Math.round(full.length * 0.2));
    assert.equal(JSON.parse(readFileSync(join(out, 'meta_info.json'), 'utf8')).mpp, 0.5);
  });

  test('at twice the pixel size, each pixel is the class covering at least half of its level-0 pixels', async () => {
    const out = join(dir, 'level1');
    const result = await writePatchDataset(options({ out, mpp: 1.0, size: 128 }));
    assert.equal(result.samples.length, 16);
    await assertMatchesTruth(out, result.samples, 128, 2);
  });

  test('the label image as annotations gives the same layers (GeoJSON and label images agree)', async () => {
    const out = join(dir, 'from-labels');
    const result = await writePatchDataset(options({ out, mpp: 1.0, size: 128, annotations: labels }));
    assert.ok(result.samples.length >= 16);
    await assertMatchesTruth(out, result.samples, 128, 2);
  });

  test('the same options give the same dataset; --min-labelled lets patches reach past the region, marked ignore', async () => {
    const a = await writePatchDataset(options({ out: join(dir, 'again'), mpp: 1.0, size: 128 }));
    const b = await writePatchDataset(options({ out: join(dir, 'level1-copy'), mpp: 1.0, size: 128 }));
    assert.deepEqual([a.train, a.val], [b.train, b.val]);
    // A 600-pixel region (1.0 um/px: 300 px) holds two 128-px patches across; at 0.5 labelled, three, the outer ones half ignore.
    const geo = join(dir, 'small.geojson');
    const doc = JSON.parse(readFileSync(join(dir, 'slide.geojson'), 'utf8')) as { features: unknown[] };
    doc.features[doc.features.length - 1] = feature({ type: 'Polygon', coordinates: [rectangle(400, 400, 1000, 656)] }, { name: 'Region' });
    writeFileSync(geo, JSON.stringify(doc));
    const out = join(dir, 'ignore');
    const r = await writePatchDataset(options({ out, mpp: 1.0, size: 128, annotations: geo, minLabelled: 0.5 }));
    const meta = JSON.parse(readFileSync(join(out, 'meta_info.json'), 'utf8'));
    assert.equal(meta.cls2clr.ignore, 128 * 65536 + 128 * 256 + 128);
    let ignored = 0;
    for (const name of r.samples) {
      const rgb = await sharp(join(out, 'ann', `${name}_seml0.png`))
        .raw()
        .toBuffer();
      const [, x, y] = /_x(\d+)_y(\d+)$/.exec(name)!.map(Number) as [number, number, number];
      for (let i = 0; i < 128 * 128; i++) {
        const [px, py] = [x + 2 * (i % 128), y + 2 * Math.floor(i / 128)];
        const inside = px >= 400 && px + 2 <= 1000 && py >= 400 && py + 2 <= 656;
        const grey = rgb[3 * i] === 128 && rgb[3 * i + 1] === 128 && rgb[3 * i + 2] === 128;
        assert.equal(grey, !inside, `${name} pixel ${i}`);
        if (grey) ignored++;
      }
    }
    assert.ok(ignored > 0);
  });
});

test('--per-class-min adds seeded patches centred on annotations of classes seen too rarely, labelled as exactly', async () => {
  const notes: string[] = [];
  const base = { mpp: 1.0, size: 128, perClassMin: 14, onNote: (l: string) => notes.push(l) };
  const out = join(dir, 'per-class');
  const r = await writePatchDataset(options({ out, ...base }));
  const grid = 16;
  assert.ok(r.samples.length > grid, `${r.samples.length} patches`);
  // Every class reaches the minimum, or a note says how far it got.
  r.slides[0]!.perClass.forEach((n, f) => {
    const name = ['villus', 'fibrin deposit', 'capillary', 'trophoblast aggregation'][f]!;
    assert.ok(n >= 14 || notes.some((l) => l.includes(`only ${n} patch(es) show ${name}`)), `${name}: ${n}`);
  });
  // Off the grid too, every patch's layers are the truth's under the same rule, and it lies inside the region.
  await assertMatchesTruth(out, r.samples, 128, 2);
  for (const s of r.samples) {
    const [, x, y] = /_x(\d+)_y(\d+)$/.exec(s)!.map(Number) as [number, number, number];
    assert.ok(x >= REGION[0] && y >= REGION[0] && x + 256 <= REGION[1] && y + 256 <= REGION[1], s);
  }
  const again = await writePatchDataset(options({ out: join(dir, 'per-class-2'), ...base }));
  assert.deepEqual(again.samples, r.samples);
});

test('annotation files are found beside the slide, by stem in a folder, and in mmfd segment output folders', () => {
  const [input] = listSlides(slide);
  assert.equal(findAnnotations(input!, undefined, 1), join(dir, 'slide.geojson'));
  const results = join(dir, 'results');
  mkdirSync(join(results, 'slide'), { recursive: true });
  copyFileSync(join(dir, 'slide.geojson'), join(results, 'slide', 'slide.geojson'));
  assert.equal(findAnnotations(input!, results, 2), join(results, 'slide', 'slide.geojson'));
  assert.throws(() => findAnnotations(input!, join(dir, 'slide.geojson'), 2), /one annotation file for 2 slides/);
  assert.throws(() => findAnnotations(input!, join(dir, 'level0'), 1), /no annotations found \(looked for .*slide\.geojson/);
});

test('a label image at a reduction of the slide (as mmfd segment writes labels.tif) stands for its blocks', async () => {
  // The truth's pyramid level 1 (2x2 modes) as a PNG: at 1.0 um/px each patch pixel is one of its pixels.
  const half = SIZE / 2;
  const level1 = new Uint8Array(await sharp(labels, { page: 1 }).extractChannel(0).raw().toBuffer());
  const png = join(dir, 'level1_labels.png');
  await sharp(level1, { raw: { width: half, height: half, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toFile(png);
  const out = join(dir, 'from-level1');
  const r = await writePatchDataset(options({ out, mpp: 1.0, size: 128, annotations: png }));
  assert.ok(r.samples.length >= 16);
  const bits: [number, string][][] = [
    [
      [LABEL_BITS.fibrin, 'thrombus'],
      [LABEL_BITS.villus, 'villi'],
    ],
    [
      [LABEL_BITS.aggregate, 'cellgroup'],
      [LABEL_BITS.capillary, 'bloodvessel'],
    ],
  ];
  for (const name of r.samples) {
    const { codes, x, y } = await layerCodes(out, name);
    for (const l of [0, 1]) {
      const diff = codes[l]!.findIndex((v, i) => {
        const value = level1[(y / 2 + Math.floor(i / 128)) * half + x / 2 + (i % 128)]!;
        const hit = bits[l]!.find(([bit]) => value & bit);
        return v !== (hit === undefined ? -1 : code(hit[1]));
      });
      assert.equal(diff, -1, `${name} seml${l}: first difference at pixel ${diff}`);
    }
  }
});

test('train and val are split by region: every patch of a region lands on the same side, seeded', async () => {
  // Three regions more than two patches apart (128 level-0 px a patch at 1.0 um/px, size 64): three groups.
  const boxes: [number, number, number, number][] = [
    [0, 0, 512, 512],
    [768, 0, 1536, 512],
    [0, 768, 512, 1536],
  ];
  const doc = JSON.parse(readFileSync(join(dir, 'slide.geojson'), 'utf8')) as { features: unknown[] };
  doc.features.pop();
  for (const b of boxes) doc.features.push(feature({ type: 'Polygon', coordinates: [rectangle(...b)] }, { name: 'Region' }));
  const geo = join(dir, 'three.geojson');
  writeFileSync(geo, JSON.stringify(doc));
  const notes: string[] = [];
  const run = (out: string, seed: number) =>
    writePatchDataset(options({ out: join(dir, out), mpp: 1.0, size: 64, annotations: geo, seed, onNote: (l) => notes.push(l) }));
  const regionOf = (name: string) => {
    const [, x, y] = /_x(\d+)_y(\d+)$/.exec(name)!.map(Number) as [number, number, number];
    return boxes.findIndex((b) => x >= b[0] && y >= b[1] && x + 128 <= b[2] && y + 128 <= b[3]);
  };
  const r = await run('by-region', 7);
  assert.equal(r.samples.length, 16 + 24 + 24);
  const sides = [r.train, r.val].map((names) => new Set(names.map(regionOf)));
  assert.ok(!sides.some((s) => s.has(-1)), 'every patch lies in one region');
  assert.deepEqual(
    [...sides[0]!].filter((k) => sides[1]!.has(k)),
    [],
    'no region on both sides',
  );
  assert.ok(sides[0]!.size > 0 && sides[1]!.size > 0);
  assert.ok([16, 24].includes(r.val.length), `one region to val (30% of 64 is 19.2), got ${r.val.length}`);
  assert.deepEqual((await run('by-region-again', 7)).val, r.val);
  assert.equal(notes.filter((l) => l.includes('split per patch')).length, 0);
});
