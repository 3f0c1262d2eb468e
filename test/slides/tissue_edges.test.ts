// The label map's tissue edge at its own resolution (tissue_edges.ts): a section with an oblique straight
// border, whose true edge is known at every label pixel, segmented by a predictor that marks stained pixels;
// the refined rows split any way agree; a villus cut off from the section, kept where the network sees it, and
// the network's spill onto glass cleared; a synthetic placenta slide's tissue area against its ground truth.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TISSUE_BIT } from '../../src/data/classes.js';
import { compareLabels } from '../../src/slides/export/compare_labels.js';
import { PyramidalTiffWriter } from '../../src/slides/export/tiff_writer.js';
import { OpenSlide } from '../../src/slides/io/openslide.js';
import type { Predictor } from '../../src/slides/pipeline/predictor.js';
import { segmentSlide } from '../../src/slides/pipeline/segment.js';
import { tileGrid } from '../../src/slides/pipeline/tiling.js';
import { detectTissue, type RgbImage, type TissueMask } from '../../src/slides/pipeline/tissue.js';
import { maskIndex, TissueEdges } from '../../src/slides/pipeline/tissue_edges.js';
import { writeSyntheticSlide } from '../../src/synth/slide/slide.js';
import * as torch from '../../src/torch/index.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-tissue-edges-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Class 0 where the green channel is dark (stain, not glass), class 1 where red is bright (stain and glass alike). */
const stainPredictor: Predictor = {
  tileSize: 128,
  classes: ['stain', 'bright_red'],
  inputMpp: 1.0,
  id: 'stain-test',
  predict: (batch) =>
    torch.tidy(() => {
      const [r, g] = [0, 1].map((c) => batch.narrow(1, c, 1)) as [torch.Tensor, torch.Tensor];
      return torch.cat([g.mul(-2).add(1.5).clamp(0, 1), r.mul(4).sub(2.5).clamp(0, 1)], 1);
    }),
  dispose() {},
};

const [W0, H0] = [1600, 1200]; // level 0 at 0.5 um/px; the label map is 800 x 600 at 1 um/px
/** The border: level-0 points with y >= BORDER(x) are tissue; a slope of 0.37 crosses a 16 um mask pixel every ~86 um. */
const BORDER = (x: number) => 330 + 0.37 * x;

/** Level-0 RGB: stain (green well below 128, textured) below the border, flat noisy glass above. */
function obliqueSection(x: number, y: number): [number, number, number] {
  const wobble = ((x * 7 + y * 13) % 23) - 11;
  return y + 0.5 >= BORDER(x + 0.5) ? [200 + wobble, 90 - wobble, 170] : [236, 240 + (wobble >> 2), 237];
}

async function writeSlide(path: string, colour: (x: number, y: number) => [number, number, number]): Promise<void> {
  const writer = await PyramidalTiffWriter.create(path, { width: W0, height: H0, channels: 3, tileSize: 256, mpp: 0.5 });
  for (let y0 = 0; writer.nextBandRows > 0; ) {
    const rows = writer.nextBandRows;
    const band = new Uint8Array(rows * W0 * 3);
    for (let r = 0; r < rows; r++) for (let x = 0; x < W0; x++) band.set(colour(x, y0 + r), 3 * (r * W0 + x));
    await writer.writeBand(band);
    y0 += rows;
  }
  await writer.close();
}

function readPlane(path: string): { width: number; height: number; data: Uint8Array } {
  const s = OpenSlide.open(path);
  try {
    const [width, height] = s.dimensions;
    const rgba = s.readRegion(0, 0, 0, width, height);
    return { width, height, data: Uint8Array.from({ length: width * height }, (_, i) => rgba[4 * i]!) };
  } finally {
    s.close();
  }
}

/** Per label column, the first row whose pixel has `bit` minus the row where the true border crosses that column's centre. */
function edgeDeviations(labels: { width: number; height: number; data: Uint8Array }, bit: number): number[] {
  return Array.from({ length: labels.width }, (_, x) => {
    let y = 0;
    while (y < labels.height && !(labels.data[y * labels.width + x]! & bit)) y++;
    // Label pixel (x, y) covers level-0 [2x, 2x + 2) x [2y, 2y + 2); the true edge crosses its column at level-0 BORDER(2x + 1).
    return y - BORDER(2 * x + 1) / 2;
  });
}

/** TissueEdges over float RGB planes [3, h, w] held whole at 1 um/px, the mask `f` label pixels per pixel (48 um band, 12 um closing). */
function edgesOver(mask: TissueMask, rgb: Float32Array, w: number, h: number, f: number): TissueEdges {
  const read = (x: number, y: number, ww: number, hh: number) => {
    const out = new Float32Array(3 * ww * hh);
    for (let c = 0; c < 3; c++)
      for (let r = 0; r < hh; r++) out.set(rgb.subarray(c * w * h + (y + r) * w + x, c * w * h + (y + r) * w + x + ww), (c * hh + r) * ww);
    return out;
  };
  const columns = maskIndex(w, 0, 1, f, mask.width);
  return new TissueEdges(
    mask,
    { width: w, height: h, mpp: 1, columns, rows: maskIndex(h, 0, 1, f, mask.height), read },
    { edgeBand: 48, edgeClosing: 12 },
  );
}

describe('tissue edges at the label resolution', () => {
  let slide: string;
  before(async () => {
    slide = join(dir, 'oblique.tif');
    await writeSlide(slide, obliqueSection);
  });

  test('an oblique section border: the tissue and class edges follow the straight line, not 16 um steps', async () => {
    const out = join(dir, 'oblique_labels.tif');
    const result = await segmentSlide(slide, stainPredictor, { out, overlap: 32, margin: 8, tissue: {} });
    assert.equal(result.tissueMask?.mpp, 16);
    const labels = readPlane(out);
    for (const [bit, name] of [
      [TISSUE_BIT, 'tissue'],
      [1, 'stain class'],
    ] as const) {
      const worst = Math.max(...edgeDeviations(labels, bit).map(Math.abs));
      assert.ok(worst <= 1.5, `${name} edge up to ${worst} label pixels off the border`);
    }
    // The bright-red class covers glass too: cleared outside tissue, so its edge is the tissue edge.
    for (let i = 0; i < labels.data.length; i++)
      assert.equal(labels.data[i]! & 2 ? 1 : 0, labels.data[i]! & TISSUE_BIT ? 1 : 0, `pixel ${i}`);

    // The same run with the mask's own edge (no band) is what the issue saw: steps of about a mask pixel.
    const coarseOut = join(dir, 'oblique_coarse.tif');
    await segmentSlide(slide, stainPredictor, { out: coarseOut, overlap: 32, margin: 8, tissue: { edgeBand: 0 } });
    const coarse = Math.max(...edgeDeviations(readPlane(coarseOut), TISSUE_BIT).map(Math.abs));
    assert.ok(coarse >= 5, `the coarse mask's edge is only ${coarse} label pixels off: the test would not see steps`);
  });

  test('clip: false keeps the classes the network predicts on glass, without the tissue bit', async () => {
    const out = join(dir, 'oblique_unclipped.tif');
    await segmentSlide(slide, stainPredictor, { out, overlap: 32, margin: 8, tissue: { clip: false } });
    const labels = readPlane(out);
    const clipped = readPlane(join(dir, 'oblique_labels.tif'));
    let kept = 0;
    for (let i = 0; i < labels.data.length; i++) {
      const v = labels.data[i]!;
      if (v & TISSUE_BIT) assert.equal(v, clipped.data[i], `tissue pixel ${i} as with clipping`);
      else if (v & 2) kept++;
    }
    assert.ok(kept > 10_000, `glass pixels keeping the bright-red class: ${kept}`);
  });

  test('the refined rows do not depend on how they are split; the tiles to run are those holding tissue', () => {
    // 300 x 240 label pixels at 1 um/px: a wobbly blob of stain with pale pockets, its mask from a 16x thumbnail.
    const [w, h] = [300, 240];
    const rgb = new Float32Array(3 * w * h).fill(0.94);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const r = Math.hypot(x - 150, y - 120) + 9 * Math.sin(x / 7) + 6 * Math.cos(y / 5);
        const pale = (x % 23 < 6 && y % 19 < 5) || r > 90;
        if (r < 100 && !pale) [rgb[y * w + x], rgb[w * h + y * w + x], rgb[2 * w * h + y * w + x]] = [0.8, 0.45, 0.7];
      }
    }
    const f = 16;
    const thumb: RgbImage = {
      width: Math.ceil(w / f),
      height: Math.ceil(h / f),
      data: new Uint8Array(3 * Math.ceil(w / f) * Math.ceil(h / f)),
      mpp: 16,
    };
    for (let ty = 0; ty < thumb.height; ty++) {
      for (let tx = 0; tx < thumb.width; tx++) {
        for (let c = 0; c < 3; c++) {
          let s = 0;
          let n = 0;
          for (let y = ty * f; y < Math.min(h, (ty + 1) * f); y++)
            for (let x = tx * f; x < Math.min(w, (tx + 1) * f); x++, n++) s += rgb[c * w * h + y * w + x]!;
          thumb.data[3 * (ty * thumb.width + tx) + c] = Math.round((255 * s) / n);
        }
      }
    }
    const mask = detectTissue(thumb, { closing: 32, minTissueArea: 0 });
    const edges = edgesOver(mask, rgb, w, h, f);
    const whole = edges.rows(0, h);
    let coarseDiffers = 0;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        coarseDiffers += whole[y * w + x] !== mask.data[Math.floor(y / f) * mask.width + Math.floor(x / f)] ? 1 : 0;
    assert.ok(coarseDiffers > 500, `the refinement changes ${coarseDiffers} pixels of the coarse mask`);
    // The tiles to run: exactly those whose extent holds a tissue pixel.
    const grid = tileGrid(w, h, 64, 16, 4);
    const expected = grid.ys.map((y0) =>
      [...grid.xs.keys()].filter((j) => {
        for (let y = y0; y < Math.min(h, y0 + 64); y++)
          for (let x = grid.xs[j]!; x < Math.min(w, grid.xs[j]! + 64); x++) if (whole[y * w + x]) return true;
        return false;
      }),
    );
    assert.deepEqual(edges.tilesWithTissue(grid), expected);
    assert.ok(expected.flat().length < grid.xs.length * grid.ys.length, 'some tiles hold no tissue');
    for (const step of [1, 7, 37, 96]) {
      const parts: Uint8Array[] = [];
      for (let y = 0; y < h; y += step) parts.push(edges.rows(y, Math.min(h, y + step)));
      assert.deepEqual(Buffer.concat(parts), Buffer.from(whole), `rows in steps of ${step}`);
    }
  });

  test('beyond the band, stained pixels the network sees a class on are tissue (a pale lumen in them too); its spill on glass is not', () => {
    // 320 x 192 label pixels at 1 um/px, the mask at 16 um/px: the section is x < 128 (the mask's columns 0-7,
    // its edge band x in [80, 176)); a villus of radius 20 cut off from it at (240, 96), beyond the band and
    // absent from the mask (as a speck too small for the 16 um view is), with a pale lumen of radius 5.
    const [w, h, f] = [320, 192, 16];
    const [cx, cy] = [240, 96];
    const fromVillus = (x: number, y: number) => Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
    const rgb = new Float32Array(3 * w * h).fill(0.94);
    const paint = (x: number, y: number, c: [number, number, number]) => {
      for (const [k, v] of c.entries()) rgb[k * w * h + y * w + x] = v;
    };
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (x < 128 || fromVillus(x, y) <= 20) paint(x, y, [0.8, 0.45, 0.7]);
        if (fromVillus(x, y) <= 5) paint(x, y, [0.88, 0.8, 0.86]); // saturation 0.09: below the threshold
      }
    }
    const mask = {
      width: w / f,
      height: h / f,
      mpp: 16,
      data: Uint8Array.from({ length: (w / f) * (h / f) }, (_, i) => (i % (w / f) < 8 ? 1 : 0)),
      threshold: 0.25,
      area: 0,
    };
    // The network: the section and the villus (lumen included), and spill onto glass: a ring around the villus,
    // a strip along the section (in the band) and a blob far from both.
    const spill = (x: number, y: number) =>
      (fromVillus(x, y) > 20 && fromVillus(x, y) <= 26) || (x >= 128 && x < 134) || (x >= 296 && y < 16);
    const truth = (x: number, y: number) => x < 128 || fromVillus(x, y) <= 20;
    const classes = Uint8Array.from({ length: w * h }, (_, i) =>
      truth(i % w, Math.floor(i / w)) || spill(i % w, Math.floor(i / w)) ? 1 : 0,
    );
    const edges = edgesOver(mask, rgb, w, h, f);
    const alone = edges.rows(0, h);
    assert.equal(alone[cy * w + cx - 15], 0, 'the mask and its band alone miss the villus: the test would not see it');
    const tissue = edges.rows(0, h, classes);
    let wrong = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // One pixel of slack at the villus's rim, where the 3x3 blur mixes it with glass.
        if (Math.abs(fromVillus(x, y) - 20) <= 1.5) continue;
        if (tissue[y * w + x] !== (truth(x, y) ? 1 : 0)) wrong++;
      }
    }
    assert.equal(wrong, 0, 'tissue: the section and the whole villus (its lumen too), no spill');
    for (const step of [1, 7, 37, 96]) {
      const parts: Uint8Array[] = [];
      for (let y = 0; y < h; y += step)
        parts.push(edges.rows(y, Math.min(h, y + step), classes.subarray(y * w, Math.min(h, y + step) * w)));
      assert.deepEqual(Buffer.concat(parts), Buffer.from(tissue), `rows in steps of ${step}`);
    }
  });

  test('a synthetic placenta slide: tissue area within 1% of its ground truth (the coarse mask alone is further off)', async () => {
    const synth = await writeSyntheticSlide({ out: join(dir, 'placenta.tif'), width: 3072, height: 2560, seed: 8, mpp: 0.5 });
    const area = async (tissue: { edgeBand?: number }) => {
      const out = join(dir, `placenta_${tissue.edgeBand ?? 'default'}.tif`);
      await segmentSlide(synth.slide, stainPredictor, { out, tissue });
      const a = compareLabels(out, synth.labels, { classBits: 2, tissueBit: TISSUE_BIT, downsample: 2 });
      return a.predictedTissue / a.trueTissue - 1;
    };
    const refined = await area({});
    const coarse = await area({ edgeBand: 0 });
    assert.ok(Math.abs(refined) < 0.01, `tissue area ${(100 * refined).toFixed(2)}% off the truth`);
    assert.ok(Math.abs(refined) < Math.abs(coarse), `refined ${refined}, coarse ${coarse}`);
  });
});
