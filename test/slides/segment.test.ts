// Whole-slide segmentation on synthetic slides with predictors whose answers are known: a pixelwise function
// of the colour (so every output pixel is known from the slide itself, read back independently through
// OpenSlide), and a fixed random conv net run whole for comparison. Also resume, regions, and bad input.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PyramidalTiffWriter } from '../../src/slides/export/tiff_writer.js';
import { OpenSlide } from '../../src/slides/io/openslide.js';
import type { TensorPredictor } from '../../src/slides/pipeline/predictor.js';
import { type SegmentOptions, segmentSlide, TISSUE_BIT } from '../../src/slides/pipeline/segment.js';
import { writeSyntheticSlide } from '../../src/synth/slide/slide.js';
import * as torch from '../../src/torch/index.js';
import { numbers, readTiffDirectories } from '../helpers/tiff_directory.js';
import { leftoverTemps } from '../torch/io/helpers.js';

type Tensor = torch.Tensor;

const dir = mkdtempSync(join(tmpdir(), 'mmfd-segment-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Class probabilities from each pixel's own bytes, kept 0.5/256 away from 0.5: p0 = 1 - (G + 0.5) / 256
 * (set where G <= 127), p1 = (R + 0.5) / 256 (R >= 128), p2 = (B + 0.5) / 256 (B >= 128).
 */
function colourPredictor(tileSize = 128): TensorPredictor & { tiles: number } {
  const p = {
    tileSize,
    classes: ['dark_green', 'red', 'blue'],
    inputMpp: 1.0,
    id: 'colour-test',
    tiles: 0,
    predict(batch: Tensor): Tensor {
      p.tiles += batch.shape[0]!;
      return torch.tidy(() => {
        const bytes = batch.mul(255).round().add(0.5).div(256);
        const [r, g, b] = [0, 1, 2].map((c) => bytes.narrow(1, c, 1));
        return torch.cat([g!.neg().add(1), r!, b!], 1);
      });
    },
    dispose() {},
  };
  return p;
}

/** Expected label and probability bytes of the colour predictor for one RGBA pixel. */
function expectedFor(rgba: Uint8Array, i: number): { label: number; probs: number[] } {
  const [r, g, b] = [rgba[4 * i]!, rgba[4 * i + 1]!, rgba[4 * i + 2]!];
  return { label: (g <= 127 ? 1 : 0) | (r >= 128 ? 2 : 0) | (b >= 128 ? 4 : 0), probs: [255 - g, r, b] };
}

/** Level 0 of a one-channel TIFF through OpenSlide. */
function readPlane(path: string): { width: number; height: number; data: Uint8Array; mpp: number | undefined; levels: number } {
  const s = OpenSlide.open(path);
  try {
    const [width, height] = s.dimensions;
    const rgba = s.readRegion(0, 0, 0, width, height);
    const data = new Uint8Array(width * height);
    for (let i = 0; i < data.length; i++) data[i] = rgba[4 * i]!;
    return { width, height, data, mpp: s.mpp?.x, levels: s.levels.length };
  } finally {
    s.close();
  }
}

const BASE: Omit<SegmentOptions, 'out'> = { overlap: 32, margin: 8, tiffTileSize: 128, tissue: false, batchSize: 2 };

describe('segmentSlide', () => {
  let slidePath: string;
  /** The slide at 1.0 um/px (its level 1), RGBA, read independently of the segmentation. */
  let level1: Uint8Array;
  const [W, H] = [512, 384];

  before(async () => {
    const synth = await writeSyntheticSlide({ out: join(dir, 'slide.tif'), width: 1024, height: 768, seed: 5, mpp: 0.5 });
    slidePath = synth.slide;
    const s = OpenSlide.open(slidePath);
    level1 = s.readRegion(0, 0, 1, W, H);
    s.close();
  });

  test('the label TIFF read back through OpenSlide holds the expected bit flags; probabilities too', async () => {
    const out = join(dir, 'known', 'labels.tif');
    mkdirSync(join(dir, 'known'));
    const result = await segmentSlide(slidePath, colourPredictor(), { ...BASE, out, probabilities: true });
    assert.equal(result.mpp.used, 1.0);
    assert.equal(result.mpp.plan.level, 1);
    assert.equal(result.mpp.plan.resample, 'none');
    assert.deepEqual([result.width, result.height, result.downsample], [W, H, 2]);
    assert.equal(result.tiles.run, 20); // 5 x 4 tiles of 128 at stride 96
    assert.deepEqual(Object.keys(result.probabilityTiffs ?? {}), ['dark_green', 'red', 'blue']);
    const labels = readPlane(out);
    assert.deepEqual([labels.width, labels.height, labels.mpp, labels.levels], [W, H, 1, 3]);
    const probs = Object.values(result.probabilityTiffs!).map(readPlane);
    const seen = new Set<number>();
    for (let i = 0; i < W * H; i++) {
      const e = expectedFor(level1, i);
      assert.equal(labels.data[i], e.label | TISSUE_BIT, `label at (${i % W}, ${Math.floor(i / W)})`);
      probs.forEach((p, c) => {
        assert.equal(p.data[i], e.probs[c], `class ${c} at (${i % W}, ${Math.floor(i / W)})`);
      });
      seen.add(labels.data[i]!);
    }
    assert.ok(seen.size >= 3, 'the slide exercises several label values');
    assert.ok(!existsSync(`${out}.partial`), 'the resume state is gone once the outputs are complete');
    const description = JSON.parse(readTiffDirectories(out).directories[0]!.tags.get(270) as string) as {
      classes: { code: string; value: number }[];
      tissue_value: number;
      mpp: number;
    };
    assert.equal(description.mpp, 1);
    assert.deepEqual(
      description.classes.map((c) => [c.code, c.value]),
      [
        ['dark_green', 1],
        ['red', 2],
        ['blue', 4],
      ],
    );
    assert.equal(description.tissue_value, 16);
  });

  test('tiled output equals the whole image through the same conv net, away from the border', async () => {
    torch.manual_seed(3);
    const { nn } = torch;
    const net = new nn.Sequential(
      new nn.Conv2d(3, 8, 3, { padding: 1 }),
      new nn.Tanh(),
      new nn.Conv2d(8, 8, 3, { padding: 1 }),
      new nn.Tanh(),
      new nn.Conv2d(8, 2, 3, { padding: 1 }),
    );
    const predict = (x: Tensor) => torch.no_grad(() => torch.tidy(() => net.forward(x.mul(4).sub(3)).sigmoid()));
    const predictor: TensorPredictor = {
      tileSize: 128,
      classes: ['a', 'b'],
      inputMpp: 1,
      id: 'conv',
      predict,
      dispose: () => net.dispose(),
    };
    try {
      const out = join(dir, 'conv.tif');
      const result = await segmentSlide(slidePath, predictor, { ...BASE, out, probabilities: true });
      const rgb = new Float32Array(3 * W * H);
      for (let i = 0; i < W * H; i++) for (let c = 0; c < 3; c++) rgb[c * W * H + i] = level1[4 * i + c]! / 255;
      const whole = torch.tidy(() => predict(torch.fromTypedArray(rgb, [1, 3, H, W])).toTypedArray() as Float32Array);
      const probs = Object.values(result.probabilityTiffs!).map(readPlane);
      let worst = 0;
      let spread = 0;
      for (let c = 0; c < 2; c++) {
        for (let y = 3; y < H - 3; y++) {
          for (let x = 3; x < W - 3; x++) {
            const p = whole[(c * H + y) * W + x]!;
            worst = Math.max(worst, Math.abs(probs[c]!.data[y * W + x]! - p * 255));
            spread = Math.max(spread, Math.abs(p - whole[c * H * W]!));
          }
        }
      }
      assert.ok(spread > 0.1, 'the net is not constant');
      assert.ok(worst <= 0.5 + 1e-3, `tiled probabilities differ from whole-image ones by ${worst} / 255`);
    } finally {
      predictor.dispose();
    }
  });

  test('with tissue detection: tissue is marked, its pixels predicted; no class outside tissue; tiles far from tissue are not run', async () => {
    // Glass with one stained disc on the left, so that much of the slide is a tile or more from tissue.
    const path = join(dir, 'disc.tif');
    const writer = await PyramidalTiffWriter.create(path, { width: 1024, height: 768, channels: 3, tileSize: 256, mpp: 0.5 });
    for (let y0 = 0; writer.nextBandRows > 0; ) {
      const rows = writer.nextBandRows;
      const band = new Uint8Array(rows * 1024 * 3);
      for (let r = 0; r < rows; r++) {
        for (let x = 0; x < 1024; x++) {
          const inside = (x - 250) ** 2 + (y0 + r - 380) ** 2 < 180 ** 2;
          const wobble = ((x * 7 + (y0 + r) * 13) % 23) - 11;
          const colour = inside ? [200 + wobble, 110 - wobble, 170] : [236, 240 + (wobble >> 2), 237];
          band.set(colour, 3 * (r * 1024 + x));
        }
      }
      await writer.writeBand(band);
      y0 += rows;
    }
    await writer.close();
    const disc = OpenSlide.open(path);
    const level1 = disc.readRegion(0, 0, 1, W, H);
    disc.close();
    const out = join(dir, 'tissue.tif');
    const predictor = colourPredictor();
    const result = await segmentSlide(path, predictor, { ...BASE, out, tissue: {} });
    const mask = result.tissueMask!;
    assert.ok(mask.area > 0);
    assert.equal(predictor.tiles, result.tiles.run);
    assert.equal(result.tiles.run, result.tiles.tissue);
    assert.ok(result.tiles.run < result.tiles.grid, 'some tiles touch no tissue');
    const labels = readPlane(out);
    // Tissue is the disc, at the label map's resolution (tissue_edges.ts): away from its rim by more than a
    // label pixel or two, every pixel is what the disc and the network say.
    let tissuePixels = 0;
    let glassPixels = 0;
    let glassTheNetworkMarks = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const r = Math.hypot(2 * x + 1 - 250, 2 * y + 1 - 380); // level-0 distance of the pixel's centre from the disc's
        const label = labels.data[y * W + x]!;
        if (label & TISSUE_BIT) tissuePixels++;
        if (Math.abs(r - 180) <= 4) continue;
        const network = expectedFor(level1, y * W + x).label;
        if (r < 180) {
          assert.equal(label, network | TISSUE_BIT, `tissue pixel (${x}, ${y})`);
          continue;
        }
        glassPixels++;
        if (network !== 0) glassTheNetworkMarks++;
        assert.equal(label, 0, `glass pixel (${x}, ${y}): no tissue bit and no class outside tissue`);
      }
    }
    assert.ok(glassPixels > 1000, `glass pixels: ${glassPixels}`);
    assert.ok(glassTheNetworkMarks > 100, `glass pixels the network gives a class (cleared): ${glassTheNetworkMarks}`);
    const discPixels = (Math.PI * 180 ** 2) / 4; // in label pixels
    assert.ok(Math.abs(tissuePixels / discPixels - 1) < 0.01, `marked tissue ${tissuePixels} pixels, the disc ${discPixels}`);
  });

  test('a region of interest equals that part of the slide, placed at its origin', async () => {
    const out = join(dir, 'region.tif');
    const result = await segmentSlide(slidePath, colourPredictor(), { ...BASE, out, region: { x: 300, y: 200, width: 500, height: 400 } });
    assert.deepEqual(result.origin, { x: 300, y: 200 });
    assert.deepEqual([result.width, result.height], [250, 200]);
    const labels = readPlane(out);
    for (let y = 0; y < 200; y++) {
      for (let x = 0; x < 250; x++) assert.equal(labels.data[y * 250 + x], expectedFor(level1, (y + 100) * W + x + 150).label | TISSUE_BIT);
    }
    await assert.rejects(
      segmentSlide(slidePath, colourPredictor(), { ...BASE, out, region: { x: 5000, y: 0, width: 10, height: 10 } }),
      /outside the slide/,
    );
  });

  test('an interrupted run resumes from its checkpoint, skips the finished tile rows, and writes the same files', async () => {
    const reference = join(dir, 'uninterrupted.tif');
    await segmentSlide(slidePath, colourPredictor(), { ...BASE, out: reference, probabilities: true });

    const out = join(dir, 'resumed.tif');
    const controller = new AbortController();
    const first = colourPredictor();
    const predict = first.predict;
    first.predict = (batch) => {
      const y = predict(batch);
      if (first.tiles >= 7) controller.abort(); // during tile row 1; row 0 (5 tiles) is checkpointed
      return y;
    };
    await assert.rejects(
      segmentSlide(slidePath, first, { ...BASE, out, probabilities: true, checkpointSeconds: 0, signal: controller.signal }),
      /interrupted after 7 of 20 tiles; run again to resume/,
    );
    assert.ok(!existsSync(out), 'no output, not even a partial one');
    assert.deepEqual(leftoverTemps(dirname(out)), []);
    assert.ok(existsSync(join(`${out}.partial`, 'state.json')));

    const second = colourPredictor();
    const progress: number[] = [];
    const result = await segmentSlide(slidePath, second, {
      ...BASE,
      out,
      probabilities: true,
      onProgress: (p) => progress.push(p.tilesDone),
    });
    assert.equal(result.tiles.resumed, 5);
    assert.equal(second.tiles, 15, 'only the tiles after the checkpoint are run again');
    assert.equal(progress[0], 5, 'progress starts from the resumed tiles');
    assert.equal(progress.at(-1), 20);
    assert.deepEqual(readFileSync(out), readFileSync(reference), 'the resumed label TIFF is byte for byte the uninterrupted one');
    for (const c of ['dark_green', 'red', 'blue']) {
      assert.deepEqual(readFileSync(join(dir, `resumed_prob_${c}.tif`)), readFileSync(join(dir, `uninterrupted_prob_${c}.tif`)));
    }
  });

  test('changed settings or resume: false start over, saying why', async () => {
    const out = join(dir, 'restart.tif');
    const controller = new AbortController();
    const first = colourPredictor();
    const predict = first.predict;
    first.predict = (batch) => {
      const y = predict(batch);
      if (first.tiles >= 12) controller.abort();
      return y;
    };
    await assert.rejects(segmentSlide(slidePath, first, { ...BASE, out, checkpointSeconds: 0, signal: controller.signal }), /interrupted/);
    const changed = colourPredictor();
    const result = await segmentSlide(slidePath, changed, { ...BASE, out, threshold: 0.6 });
    assert.equal(changed.tiles, 20);
    assert.match(result.discardedPartial ?? '', /settings changed/);

    const again = new AbortController();
    const third = colourPredictor();
    const p3 = third.predict;
    third.predict = (batch) => {
      const y = p3(batch);
      if (third.tiles >= 12) again.abort();
      return y;
    };
    await assert.rejects(segmentSlide(slidePath, third, { ...BASE, out, checkpointSeconds: 0, signal: again.signal }), /interrupted/);
    const fresh = colourPredictor();
    const restarted = await segmentSlide(slidePath, fresh, { ...BASE, out, resume: false });
    assert.equal(fresh.tiles, 20);
    assert.match(restarted.discardedPartial ?? '', /resume is off/);
  });

  test('upsampling more than 2x for the network is refused unless allowed, saying why', async () => {
    const out = join(dir, 'coarse.tif');
    const region = { x: 0, y: 0, width: 100, height: 100 };
    // The slide is 0.5 um/px; --mpp 2.5 claims it is 2.5, which the 1.0 um/px network would see upsampled 2.5x.
    await assert.rejects(
      segmentSlide(slidePath, colourPredictor(), { ...BASE, out, mpp: 2.5, region }),
      (e: Error) =>
        e.message.startsWith(
          `${slidePath}: the slide's pixels are 2.5 um (from --mpp; the slide's metadata says 0.5 um/px), 2.5x coarser`,
        ) && /about 6x the work.*pass --allow-upsample$/.test(e.message),
    );
    assert.ok(!existsSync(out));
    const allowed = await segmentSlide(slidePath, colourPredictor(), { ...BASE, out, mpp: 2.5, region, allowUpsample: true });
    assert.equal(allowed.mpp.plan.resample, 'bilinear');
    const twice = await segmentSlide(slidePath, colourPredictor(), { ...BASE, out: join(dir, 'twice.tif'), mpp: 2, region });
    assert.equal(twice.mpp.used, 1);
  });

  test('a slide with no mpp is refused unless --mpp is given; an implausible one likewise', async () => {
    for (const [name, mpp] of [
      ['nompp.tif', undefined],
      ['huge.tif', 50],
    ] as const) {
      const path = join(dir, name);
      const w = await PyramidalTiffWriter.create(path, { width: 512, height: 384, channels: 3, tileSize: 128, mpp });
      while (w.nextBandRows > 0) await w.writeBand(new Uint8Array(w.nextBandRows * 512 * 3).fill(200));
      await w.close();
      const out = join(dir, `${name}.labels.tif`);
      await assert.rejects(
        segmentSlide(path, colourPredictor(), { ...BASE, out }),
        new RegExp(`${path}: .*(no pixel size|implausible).*--mpp`),
      );
      assert.ok(!existsSync(out));
      const result = await segmentSlide(path, colourPredictor(), { ...BASE, out, mpp: 1.0 });
      assert.deepEqual([result.mpp.source, result.mpp.used, result.width], ['override', 1, 512]);
    }
  });

  test('a truncated, unsupported or damaged slide gives a clear error naming it, and leaves no output', async () => {
    const truncated = join(dir, 'truncated.tif');
    copyFileSync(slidePath, truncated);
    truncateSync(truncated, Math.floor(statSync(truncated).size / 2));
    const text = join(dir, 'notes.tif');
    writeFileSync(text, 'not a slide\n');
    const damaged = join(dir, 'damaged.tif');
    copyFileSync(slidePath, damaged);
    // Level 1's tile data (what the model reads) zeroed, the directories intact.
    const tiff = readTiffDirectories(damaged);
    const level1Tiles = tiff.directories[1]!;
    const counts = numbers(level1Tiles, 325);
    numbers(level1Tiles, 324).forEach((offset, i) => {
      tiff.bytes.fill(0, offset, offset + counts[i]!);
    });
    writeFileSync(damaged, tiff.bytes);
    const cases: [string, RegExp][] = [
      [truncated, /a TIFF file OpenSlide cannot read .*truncated, damaged/],
      [text, /not a slide format OpenSlide can read/],
      [join(dir, 'missing.svs'), /no such file/],
      [damaged, /reading .* failed/],
    ];
    for (const [path, problem] of cases) {
      const out = join(dir, 'bad', 'labels.tif');
      mkdirSync(join(dir, 'bad'), { recursive: true });
      await assert.rejects(segmentSlide(path, colourPredictor(), { ...BASE, out }), (err: Error) => {
        assert.ok(err.message.startsWith(`${path}: `), err.message);
        assert.match(err.message, problem);
        return true;
      });
      assert.ok(!existsSync(out), `${path}: no output left behind`);
      assert.deepEqual(leftoverTemps(dirname(out)), []);
    }
  });
});
