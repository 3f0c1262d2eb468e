// The network segmenter (segment.ts behind the cohort runner) with a known stand-in model whose input is at
// 1.0 um/px on a 0.5 um/px slide: the label map is at half the slide's resolution, and the exports must
// still land in slide pixels. The GeoJSON, scaled back to the label grid, fills in the label map exactly; the
// manifest records both pixel sizes and the model's hash; progress comes from the tiles.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import type { Manifest } from '../../src/cohort/manifest.js';
import { type CohortEvent, runCohort } from '../../src/cohort/run.js';
import { networkSegmenter } from '../../src/cohort/segmenter.js';
import { listSlides } from '../../src/cohort/slide_list.js';
import type { Predictor } from '../../src/slides/pipeline/predictor.js';
import { writeSyntheticSlide } from '../../src/synth/slide/slide.js';
import * as torch from '../../src/torch/index.js';
import type { Tensor } from '../../src/torch/tensor.js';
import { rasterisePolygon } from '../helpers/label_truth.js';
import { testSettings } from '../helpers/segment_settings.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-segmenter-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Villus where a pixel is darker than 0.8 in green, capillary where red beats green by 0.15. */
function stainPredictor(): Predictor {
  return {
    tileSize: 128,
    classes: ['villit', 'thrombus', 'bloodvessel', 'cellgroup'],
    inputMpp: 1.0,
    id: 'student:stain-test',
    predict: (batch: Tensor) =>
      torch.tidy(() => {
        const [r, g] = [0, 1].map((c) => batch.narrow(1, c, 1)) as [Tensor, Tensor];
        const zero = g.mul(0);
        return torch.cat([g.lt(0.8).float(), zero, r.sub(g).gt(0.15).float(), zero], 1);
      }),
    dispose() {},
  };
}

const SETTINGS = testSettings(256);

describe('network segmenter', () => {
  test('labels at half resolution come out in slide pixels', async () => {
    const slide = await writeSyntheticSlide({ out: join(dir, 'a.tif'), width: 900, height: 700, seed: 6, mpp: 0.5 });
    const segmenter = await networkSegmenter({ model: 'student', checkpoint: null }, stainPredictor);
    assert.equal(segmenter.sha256, createHash('sha256').update('student:stain-test').digest('hex'));
    const out = join(dir, 'out');
    const events: CohortEvent[] = [];
    const [outcome] = await runCohort(listSlides(slide.slide), { out, segmenter, settings: SETTINGS, onEvent: (e) => events.push(e) });
    assert.equal(outcome!.status, 'done', outcome!.error);
    assert.ok(events.some((e) => e.kind === 'progress' && e.stage === 'segment' && e.stageFraction === 1));

    const manifest = JSON.parse(readFileSync(join(out, 'a', 'manifest.json'), 'utf8')) as Manifest;
    assert.deepEqual(manifest.mpp, { slide: 0.5, labels: 1.0 });
    const { data, info } = await sharp(join(out, 'a', 'labels.tif'), { page: 0 })
      .extractChannel(0)
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [450, 350]);

    // Every polygon is in slide pixels (two per label pixel); halved, they fill in the villus bit exactly.
    const geojson = JSON.parse(readFileSync(join(out, 'a', 'a.geojson'), 'utf8')) as {
      features: { geometry: { coordinates: [number, number][][] }; properties: { classification: { name: string } } }[];
    };
    const villi = geojson.features.filter((f) => f.properties.classification.name === 'Villus');
    assert.ok(villi.length > 5);
    const filled = new Uint8Array(450 * 350);
    for (const f of villi) {
      const rings = f.geometry.coordinates.map((ring) => ring.map(([x, y]) => [x / 2, y / 2] as [number, number]));
      rasterisePolygon(rings, 450, 350, filled);
    }
    for (let i = 0; i < filled.length; i++) assert.equal(filled[i], data[i]! & 1, `pixel ${i}`);
    assert.ok(geojson.features.every((f) => f.geometry.coordinates.flat().every(([x, y]) => x <= 900 && y <= 700)));

    // The overlay's thumbnail is the label grid's at 256 px on its longest side: 450x350 -> 256x199.
    const thumb = await sharp(join(out, 'a', 'overlay', 'thumbnail_overlay.png')).metadata();
    assert.deepEqual([thumb.width, thumb.height], [256, 199]);
  });

  test("a checkpoint's hash is its file's; a model that cannot load says how to give weights", async () => {
    const ckpt = join(dir, 'weights.safetensors');
    writeFileSync(ckpt, 'weights');
    const segmenter = await networkSegmenter({ model: 'teacher', checkpoint: ckpt }, stainPredictor);
    assert.equal(segmenter.sha256, createHash('sha256').update('weights').digest('hex'));
    const refuse = () => {
      throw new Error('the teacher needs trained weights');
    };
    await assert.rejects(
      networkSegmenter({ model: 'teacher', checkpoint: null }, refuse),
      /cannot load the teacher \(give its weights with --checkpoint\)/,
    );
  });
});
