// The synthetic slide against the generator's own truth: the TIFFs read back through sharp must hold exactly
// what SlidePainter paints, the labels must keep the class table's rules, and the bytes must repeat per seed.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import { run } from '../../src/cli/synth-slide.js';
import { LABEL_BITS, LABEL_CLASSES } from '../../src/data/classes.js';
import { pyramidLevels } from '../../src/slides/export/pyramid.js';
import { recordedGrid } from '../../src/slides/io/raster_grid.js';
import { SlidePainter } from '../../src/synth/slide/paint.js';
import { labelPaths, writeSyntheticSlide } from '../../src/synth/slide/slide.js';
import { runCaptured } from '../helpers/cli.js';
import { readTiffDirectories, tagValue } from '../helpers/tiff_directory.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-synth-slide-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// 3 x 2.2 mm at 2 um per pixel: small enough to be quick, large enough to hold every class.
const SLIDE = { width: 1500, height: 1100, seed: 5, mpp: 2 };
const { villus: VILLUS, fibrin: FIBRIN, capillary: CAPILLARY, aggregate: AGGREGATE, tissue: TISSUE } = LABEL_BITS;

/** Level 0 within the slide's size (the labels are padded beyond it to a full pyramid). */
async function level0(path: string, channels: 1 | 3): Promise<Buffer> {
  const img = sharp(path, { page: 0, limitInputPixels: false }).extract({ left: 0, top: 0, width: SLIDE.width, height: SLIDE.height });
  return (channels === 1 ? img.extractChannel(0) : img).raw().toBuffer();
}

function paint(painter: SlidePainter, x0: number, y0: number, w: number, h: number): { rgb: Buffer; labels: Buffer } {
  const rgb = Buffer.alloc(w * h * 3);
  const labels = Buffer.alloc(w * h);
  painter.paintWindow(x0, y0, w, h, rgb, labels);
  return { rgb, labels };
}

describe('synthetic slide', async () => {
  const out = join(dir, 'a', 'slide.tif');
  mkdirSync(join(dir, 'a'));
  const progress: number[] = [];
  const result = await writeSyntheticSlide({ out, ...SLIDE, onProgress: (done, total) => progress.push(done / total) });
  const painter = new SlidePainter(SLIDE.width, SLIDE.height, SLIDE.seed, SLIDE.mpp);
  const truth = paint(painter, 0, 0, SLIDE.width, SLIDE.height);

  test('writes the slide, <stem>_labels.tif and <stem>_labels.json, reporting progress per band', () => {
    assert.deepEqual(labelPaths(out), { labels: join(dir, 'a', 'slide_labels.tif'), table: join(dir, 'a', 'slide_labels.json') });
    for (const f of [result.slide, result.labels, result.table]) assert.ok(existsSync(f), f);
    assert.equal(progress.length, Math.ceil(SLIDE.height / 256));
    assert.equal(progress.at(-1), 1);
  });

  test('both TIFFs are pyramids carrying the mpp as pixels per centimetre; the labels padded to every level', () => {
    for (const [path, samples, exact] of [
      [result.slide, 3, true],
      [result.labels, 1, false],
    ] as const) {
      const tiff = readTiffDirectories(path);
      assert.equal(tiff.directories.length, pyramidLevels(SLIDE.width, SLIDE.height, 256, exact).length);
      const d0 = tiff.directories[0]!;
      assert.equal(tagValue(d0, 277), samples);
      assert.equal(tagValue(d0, 296), 3); // centimetre
      assert.ok(Math.abs(tagValue(d0, 282) - 10000 / SLIDE.mpp) < 1e-6);
    }
    assert.match(String(readTiffDirectories(result.slide).directories[0]!.tags.get(270)), /seed=5; mpp=2; labels=slide_labels\.tif/);
  });

  test('level 0 holds exactly the painted slide and labels; the labels recorded size is the slide, their padding 0', async () => {
    // 1500 x 1100 halves to 188 x 138 in three steps: the labels are 1504 x 1104.
    const labels = sharp(result.labels, { page: 0 });
    assert.deepEqual([(await labels.metadata()).width, (await labels.metadata()).height], [1504, 1104]);
    const all = await labels.extractChannel(0).raw().toBuffer();
    for (let y = 0; y < 1104; y++) for (let x = y < SLIDE.height ? SLIDE.width : 0; x < 1504; x++) assert.equal(all[y * 1504 + x], 0);
    assert.deepEqual(recordedGrid(result.labels), { width: SLIDE.width, height: SLIDE.height });
    assert.ok((await level0(result.slide, 3)).equals(truth.rgb), 'RGB');
    assert.ok((await level0(result.labels, 1)).equals(truth.labels), 'labels');
  });

  test('the table documents the bits and counts every class pixel of the label image', () => {
    const table = JSON.parse(readFileSync(result.table, 'utf8'));
    assert.deepEqual(
      table.classes.map((c: { value: number; code: string }) => [c.value, c.code]),
      [
        [1, 'villit'],
        [2, 'thrombus'],
        [4, 'bloodvessel'],
        [8, 'cellgroup'],
        [16, 'tissue'],
      ],
    );
    assert.equal(table.mpp, SLIDE.mpp);
    for (const c of LABEL_CLASSES) {
      let n = 0;
      for (const v of truth.labels) if (v & c.value) n++;
      assert.equal(table.pixel_counts[c.code], n, c.code);
      assert.ok(n > 0, `${c.code} is present`);
    }
  });

  test('labels follow the class rules: capillaries in villi, fibrin apart from villi, classes only on tissue', () => {
    for (const v of truth.labels) {
      if (v & CAPILLARY) assert.ok(v & VILLUS, `capillary without villus: ${v}`);
      if (v & FIBRIN) assert.ok(!(v & VILLUS), `fibrin with villus: ${v}`);
      if (v & (VILLUS | FIBRIN | CAPILLARY | AGGREGATE)) assert.ok(v & TISSUE, `class off tissue: ${v}`);
    }
  });

  test('tissue sections sit on white glass and are darker than it', () => {
    const glass = painter.stain.background;
    assert.ok(Math.min(...glass) >= 230, `glass ${glass}`);
    let tissue = 0;
    let tissueLuma = 0;
    for (let i = 0; i < truth.labels.length; i++) {
      const [r, g, b] = [truth.rgb[3 * i]!, truth.rgb[3 * i + 1]!, truth.rgb[3 * i + 2]!];
      if (truth.labels[i] === 0) {
        if (r !== glass[0] || g !== glass[1] || b !== glass[2]) assert.fail(`glass pixel ${i} is ${[r, g, b]}`);
      } else {
        tissue++;
        tissueLuma += (r + g + b) / 3;
      }
    }
    const fraction = tissue / truth.labels.length;
    assert.ok(fraction > 0.15 && fraction < 0.85, `tissue fraction ${fraction}`);
    assert.ok(tissueLuma / tissue < (glass[0] + glass[1] + glass[2]) / 3 - 25, 'tissue is stained');
  });

  test('any window painted on its own matches the same part of a larger window (no seams between tiles)', () => {
    const big = paint(painter, 200, 150, 900, 700);
    const x0 = 337;
    const y0 = 401;
    const small = paint(painter, x0, y0, 301, 203);
    assert.ok(small.labels.includes(VILLUS | TISSUE), 'the window holds tissue');
    for (let r = 0; r < 203; r++) {
      const at = (y0 - 150 + r) * 900 + (x0 - 200);
      assert.ok(small.labels.subarray(r * 301, (r + 1) * 301).equals(big.labels.subarray(at, at + 301)), `labels row ${r}`);
      assert.ok(small.rgb.subarray(r * 903, (r + 1) * 903).equals(big.rgb.subarray(3 * at, 3 * at + 903)), `rgb row ${r}`);
    }
  });

  test('the same seed gives the same bytes; another seed another slide', async () => {
    mkdirSync(join(dir, 'b'));
    const again = await writeSyntheticSlide({ out: join(dir, 'b', 'slide.tif'), ...SLIDE });
    for (const key of ['slide', 'labels', 'table'] as const) {
      assert.ok(readFileSync(again[key]).equals(readFileSync(result[key])), key);
    }
    mkdirSync(join(dir, 'c'));
    const other = await writeSyntheticSlide({ out: join(dir, 'c', 'slide.tif'), ...SLIDE, seed: 6 });
    assert.ok(!readFileSync(other.labels).equals(readFileSync(result.labels)));
  });

  test('bad options are refused with the file and the problem named', async () => {
    await assert.rejects(writeSyntheticSlide({ ...SLIDE, out: join(dir, 'x.png') }), /x\.png: .*must be a \.tif or \.tiff file/);
    await assert.rejects(
      writeSyntheticSlide({ ...SLIDE, out: join(dir, 'nowhere', 'x.tif') }),
      /x\.tif: .*folder .*nowhere does not exist/,
    );
    await assert.rejects(writeSyntheticSlide({ ...SLIDE, out: join(dir, 'x.tif'), mpp: 0 }), /x\.tif: .*mpp must be between/);
    await assert.rejects(writeSyntheticSlide({ ...SLIDE, out: join(dir, 'x.tif'), width: 0 }), /width must be an integer/);
  });

  test('mmfd synth-slide writes the three files and rejects a non-integer size', async () => {
    const path = join(dir, 'cli.tif');
    const stderr = process.stderr.write;
    process.stderr.write = () => true; // silence the progress line
    const log = console.log;
    console.log = () => undefined;
    try {
      assert.equal(await run(['--out', path, '--width', '300', '--height', '200', '--seed', '3']), 0);
    } finally {
      process.stderr.write = stderr;
      console.log = log;
    }
    for (const f of [path, join(dir, 'cli_labels.tif'), join(dir, 'cli_labels.json')]) assert.ok(existsSync(f), f);
    const bad = await runCaptured(run, ['--out', path, '--width', 'wide', '--height', '200', '--seed', '3']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--width needs an integer \(got 'wide'\)/);
  });
});
