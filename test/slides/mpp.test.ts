// The resolution contract against known pixel sizes: the slide's mpp from real TIFF metadata read through
// OpenSlide, the override, refusals; the checkpoint's input_mpp; the level chosen for a target; and the
// resampler against the pyramid's own 2x2 means, with overlapping windows agreeing exactly.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PyramidalTiffWriter } from '../../src/slides/export/tiff_writer.js';
import {
  chooseLevel,
  DEFAULT_INPUT_MPP,
  exactDownsample,
  exactLevels,
  inputMppOf,
  MppError,
  resolveSlideMpp,
} from '../../src/slides/io/mpp.js';
import { OpenSlide, type SlideLevel } from '../../src/slides/io/openslide.js';
import { axisTaps, readGridWindow } from '../../src/slides/io/resample.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-mpp-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A 600 x 500 RGB slide whose pixels are a known function of position, with or without an mpp. */
async function writeSlide(name: string, mpp: number | undefined): Promise<string> {
  const [w, h] = [600, 500];
  const path = join(dir, name);
  const writer = await PyramidalTiffWriter.create(path, { width: w, height: h, channels: 3, tileSize: 128, mpp });
  for (let y = 0; writer.nextBandRows > 0; ) {
    const rows = writer.nextBandRows;
    const band = new Uint8Array(rows * w * 3);
    for (let r = 0; r < rows; r++) {
      for (let x = 0; x < w; x++) {
        const i = 3 * (r * w + x);
        band[i] = (x * 3 + (y + r)) & 255;
        band[i + 1] = ((y + r) * 5) & 255;
        band[i + 2] = (x ^ (y + r)) & 255;
      }
    }
    await writer.writeBand(band);
    y += rows;
  }
  await writer.close();
  return path;
}

const pyramid = (w: number, h: number, downsamples: number[]): SlideLevel[] =>
  downsamples.map((d) => ({ width: Math.round(w / d), height: Math.round(h / d), downsample: d }));

describe('slide mpp', () => {
  let withMpp: string;
  let withoutMpp: string;
  before(async () => {
    withMpp = await writeSlide('with.tif', 0.25);
    withoutMpp = await writeSlide('without.tif', undefined);
  });

  test('from the metadata OpenSlide reads (TIFF resolution tags), or the override', () => {
    const slide = OpenSlide.open(withMpp);
    try {
      assert.deepEqual(resolveSlideMpp(withMpp, slide.mpp), { mpp: 0.25, source: 'metadata' });
      assert.deepEqual(resolveSlideMpp(withMpp, slide.mpp, 0.5), { mpp: 0.5, source: 'override' });
    } finally {
      slide.close();
    }
  });

  test('a slide with no mpp is refused with a clear error unless overridden', () => {
    const slide = OpenSlide.open(withoutMpp);
    try {
      assert.equal(slide.mpp, undefined);
      assert.throws(
        () => resolveSlideMpp(withoutMpp, slide.mpp),
        (err: Error) => err instanceof MppError && err.message.startsWith(`${withoutMpp}: `) && /no pixel size.*--mpp/.test(err.message),
      );
      assert.deepEqual(resolveSlideMpp(withoutMpp, slide.mpp, 0.5), { mpp: 0.5, source: 'override' });
    } finally {
      slide.close();
    }
  });

  test('implausible or non-square pixel sizes are refused; an implausible override too', () => {
    assert.throws(() => resolveSlideMpp('a.svs', { x: 100, y: 100 }), /a\.svs: .*100 um\/px, which is implausible.*--mpp/);
    assert.throws(() => resolveSlideMpp('a.svs', { x: 0.01, y: 0.01 }), /implausible/);
    assert.throws(() => resolveSlideMpp('a.svs', { x: 0.25, y: 0.5 }), /not square/);
    assert.throws(() => resolveSlideMpp('a.svs', undefined, 0), /--mpp 0 is not a plausible pixel size/);
    assert.throws(() => resolveSlideMpp('a.svs', undefined, Number.NaN), /not a plausible/);
    assert.deepEqual(resolveSlideMpp('a.svs', { x: 100, y: 100 }, 0.5), { mpp: 0.5, source: 'override' });
    assert.deepEqual(resolveSlideMpp('a.svs', { x: 0.2525, y: 0.2526 }).source, 'metadata');
  });
});

describe('input_mpp of a checkpoint', () => {
  test('recorded, or 1.0 um/px when absent; nonsense is an error naming the checkpoint', () => {
    assert.equal(DEFAULT_INPUT_MPP, 1.0);
    assert.equal(inputMppOf({}, 'ck'), 1.0);
    assert.equal(inputMppOf({ input_mpp: 0.5 }, 'ck'), 0.5);
    assert.throws(() => inputMppOf({ input_mpp: '0.5' }, 'ck.json'), /ck\.json: input_mpp "0\.5"/);
    assert.throws(() => inputMppOf({ input_mpp: 0 }, 'ck.json'), /input_mpp 0 /);
  });
});

describe('level choice', () => {
  const levels = pyramid(40000, 30000, [1, 2, 4, 8, 16]);

  test('the coarsest level at most the target; exact levels are read as they are', () => {
    const plan = chooseLevel(levels, 0.25, 1.0);
    assert.equal(plan.level, 2);
    assert.equal(plan.resample, 'none');
    assert.equal(plan.gridMpp, 1.0);
    assert.deepEqual([plan.width, plan.height], [10000, 7500]);
    assert.equal(plan.gridDownsample, 4);
  });

  test('between levels: the finer one, area-averaged to the target', () => {
    const plan = chooseLevel(levels, 0.25, 0.8);
    assert.equal(plan.level, 1);
    assert.equal(plan.levelMpp, 0.5);
    assert.equal(plan.resample, 'area');
    assert.ok(Math.abs(plan.scale - 1.6) < 1e-12);
    assert.equal(plan.gridMpp, 0.8);
    assert.deepEqual([plan.width, plan.height], [12500, 9375]);
  });

  test('a level within 2% of the target is used as is, and its own mpp is reported', () => {
    // An Aperio-like pyramid: 4x steps with inexact downsamples, scanned at 0.2525 um/px.
    const svs = pyramid(80000, 60000, [1, 4.0002, 16.001]);
    const plan = chooseLevel(svs, 0.2525, 1.0);
    assert.equal(plan.level, 1);
    assert.equal(plan.resample, 'none');
    assert.ok(Math.abs(plan.gridMpp - 0.2525 * 4.0002) < 1e-12);
    assert.deepEqual([plan.width, plan.height], [svs[1]!.width, svs[1]!.height]);
    // 3% off is too far: level 0, averaged down.
    assert.equal(chooseLevel(svs, 0.2575, 1.0).resample, 'area');
  });

  test('label maps are read only from levels OpenSlide reads without resampling: whole downsamples', async () => {
    // An Aperio-like pyramid (4x steps rounded down) gets averaged, fractional downsamples; a Philips one whole ones.
    assert.deepEqual(exactLevels(pyramid(80001, 60003, [1, 4.0002, 16.001])), [true, false, false]);
    assert.deepEqual(exactLevels(pyramid(80000, 60000, [1, 2, 4])), [true, true, true]);
    // mmfd's own pyramid: 600 x 500, 300 x 250, 150 x 125 in 128-pixel tiles, every downsample whole (the
    // writer stops before 125 would round), so every level is exact, and the coarsest is chosen for 1 um/px.
    const slide = OpenSlide.open(await writeSlide('levels.tif', 0.25));
    try {
      assert.deepEqual(
        slide.levels.map((l) => [l.width, l.height, l.downsample]),
        [
          [600, 500, 1],
          [300, 250, 2],
          [150, 125, 4],
        ],
      );
      assert.deepEqual(exactLevels(slide.levels), [true, true, true]);
      const plan = chooseLevel(slide.levels, 0.25, 1.0);
      assert.equal(plan.level, 2);
      assert.equal(plan.resample, 'none');
    } finally {
      slide.close();
    }
  });

  test("odd sizes: the pyramid's whole factor, not OpenSlide's average, gives the pixel size; reads keep OpenSlide's", () => {
    // 2501 x 1999 halved rounding up (mmfd, libvips) and quartered rounding down (Aperio), as OpenSlide reports them.
    const odd: SlideLevel[] = [
      { width: 2501, height: 1999, downsample: 1 },
      { width: 1251, height: 1000, downsample: (2501 / 1251 + 1999 / 1000) / 2 },
      { width: 625, height: 499, downsample: (2501 / 625 + 1999 / 499) / 2 },
      // Not a whole factor of level 0 either way (2501 / 3 = 833.7): OpenSlide's downsample stands.
      { width: 700, height: 560, downsample: (2501 / 700 + 1999 / 560) / 2 },
    ];
    assert.deepEqual(
      odd.map((_, i) => exactDownsample(odd, i)),
      [1, 2, 4, odd[3]!.downsample],
    );
    const plan = chooseLevel(odd, 0.5, 1.0);
    assert.equal(plan.level, 1);
    assert.equal(plan.resample, 'none');
    assert.equal(plan.gridMpp, 1.0);
    assert.equal(plan.gridDownsample, 2);
    assert.equal(plan.readDownsample, odd[1]!.downsample);
    // Resampling from the odd level: its pixel is 2 level-0 pixels, so 0.8 um/px is 1.6 of them at 0.25 um/px.
    const area = chooseLevel(odd, 0.25, 0.8);
    assert.equal(area.level, 1);
    assert.equal(area.scale, 1.6);
  });

  test('a slide coarser than the target is upsampled from level 0', () => {
    const plan = chooseLevel(pyramid(1000, 800, [1, 2]), 2.0, 1.0);
    assert.equal(plan.level, 0);
    assert.equal(plan.resample, 'bilinear');
    assert.equal(plan.scale, 0.5);
    assert.deepEqual([plan.width, plan.height], [2000, 1600]);
  });
});

describe('resampling', () => {
  test('area taps cover each output pixel exactly: weights sum to 1, fractional overlaps', () => {
    const taps = axisTaps(3, 4, 1.5, 'area');
    // Output pixel 3 covers source [4.5, 6): half of pixel 4, all of pixel 5.
    assert.equal(taps.first, 4);
    const weightsOf = (i: number) =>
      Array.from({ length: taps.k }, (_, t) => [taps.index[i * taps.k + t]! + taps.first, taps.weight[i * taps.k + t]!]).filter(
        ([, w]) => w! > 0,
      );
    assert.deepEqual(
      weightsOf(0).map(([q, w]) => [q, Math.round(w! * 1e6) / 1e6]),
      [
        [4, 0.333333],
        [5, 0.666667],
      ],
    );
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(weightsOf(i).reduce((s, [, w]) => s + w!, 0) - 1) < 1e-6);
  });

  test('area-averaging level 0 by 2 reproduces level 1 (the pyramid 2x2 means); windows agree wherever they overlap', async () => {
    const path = await writeSlide('resample.tif', 0.25);
    const slide = OpenSlide.open(path);
    try {
      // Target 0.5 um/px from a pyramid whose only levels are 0.25 and 0.5: force the area path by offering level 0 only.
      const plan = chooseLevel(slide.levels.slice(0, 1), 0.25, 0.5);
      assert.equal(plan.resample, 'area');
      const [w, h] = [120, 90];
      const mine = readGridWindow(slide, plan, 40, 30, w, h);
      const level1 = slide.readRegion(80, 60, 1, w, h);
      let worst = 0;
      for (let c = 0; c < 3; c++) {
        for (let i = 0; i < w * h; i++) worst = Math.max(worst, Math.abs(mine[c * w * h + i]! * 255 - level1[4 * i + c]!));
      }
      assert.ok(worst <= 0.5 + 1e-3, `area average differs from the pyramid's rounded mean by ${worst}`);
      const inner = readGridWindow(slide, plan, 57, 41, 33, 21);
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < 21; y++) {
          for (let x = 0; x < 33; x++) assert.equal(inner[(c * 21 + y) * 33 + x], mine[(c * h + y + 11) * w + x + 17]);
        }
      }
      // Past the slide's edge is white.
      const edge = readGridWindow(slide, plan, 290, 240, 20, 20);
      assert.equal(edge[19 * 20 + 19], 1);
    } finally {
      slide.close();
    }
  });
});
