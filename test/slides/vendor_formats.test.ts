// One synthetic slide written as a generic TIFF, an Aperio SVS and a Philips TIFF (src/synth/slide/vendor.ts):
// OpenSlide must open each with its vendor's driver, mmfd must take the pixel size from the vendor's own field
// (the vendor files carry no TIFF resolution tags), and segmentation by a colour stand-in predictor must match
// the generic TIFF's: exactly where the tiles hold the same pixels (deflate, or the same JPEG tiles), and on
// all but a stated fraction of pixels between JPEG and deflate.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { PyramidalTiffWriter } from '../../src/slides/export/tiff_writer.js';
import { MppError, resolveSlideMpp } from '../../src/slides/io/mpp.js';
import { OpenSlide } from '../../src/slides/io/openslide.js';
import { segmentSlide } from '../../src/slides/pipeline/segment.js';
import { writeSyntheticSlide } from '../../src/synth/slide/slide.js';
import type { SlideFormat } from '../../src/synth/slide/vendor.js';
import { colourPredictor } from '../helpers/colour_predictor.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-vendor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** An Aperio-typical pixel size, read at level 1 (0.998 um/px, within 2% of the predictor's 1.0). */
const MPP = 0.499;
const SLIDE = { width: 512, height: 384, seed: 4, mpp: MPP, tileSize: 128 };

const SLIDES: { name: string; file: string; format: SlideFormat; compression: 'deflate' | 'jpeg'; vendor: string }[] = [
  { name: 'tiff', file: 'tiff.tif', format: 'tiff', compression: 'deflate', vendor: 'generic-tiff' },
  { name: 'tiff-jpeg', file: 'tiff_jpeg.tif', format: 'tiff', compression: 'jpeg', vendor: 'generic-tiff' },
  { name: 'svs', file: 'slide.svs', format: 'svs', compression: 'jpeg', vendor: 'aperio' },
  { name: 'philips', file: 'philips.tiff', format: 'philips', compression: 'deflate', vendor: 'philips' },
  { name: 'philips-jpeg', file: 'philips_jpeg.tiff', format: 'philips', compression: 'jpeg', vendor: 'philips' },
];

/** Segments `slide` and returns its label map's level 0. */
async function segment(slide: string, name: string): Promise<Buffer> {
  const out = join(dir, `${name}_labels.tif`);
  await segmentSlide(slide, colourPredictor, { out, tissue: false, tiffTileSize: 64 });
  return sharp(out, { page: 0 }).extractChannel(0).raw().toBuffer();
}

const differing = (a: Buffer, b: Buffer) => a.reduce((n, v, i) => n + (v === b[i] ? 0 : 1), 0) / a.length;

describe('vendor slide layouts', () => {
  const labels: Record<string, Buffer> = {};
  before(async () => {
    for (const s of SLIDES) {
      const path = join(dir, s.file);
      await writeSyntheticSlide({ out: path, ...SLIDE, format: s.format, compression: s.compression });
      labels[s.name] = await segment(path, s.name);
    }
  });

  test("OpenSlide opens each with its vendor's driver; the mpp comes from the vendor's own field", () => {
    for (const s of SLIDES) {
      const slide = OpenSlide.open(join(dir, s.file));
      try {
        assert.equal(slide.vendor, s.vendor, s.file);
        assert.equal(slide.properties['openslide.vendor'], s.vendor);
        const p = slide.properties;
        if (s.format !== 'tiff') assert.equal(p['tiff.XResolution'], undefined, `${s.file}: no resolution tags to fall back on`);
        if (s.format === 'svs') {
          assert.equal(p['aperio.MPP'], String(MPP));
          assert.equal(p['aperio.AppMag'], '20.04');
        }
        if (s.format === 'philips') {
          const mm = MPP / 1000;
          assert.equal(p['philips.DICOM_PIXEL_SPACING'], `"${mm}" "${mm}"`);
          // OpenSlide takes Philips downsamples from each level's pixel spacing: whole numbers.
          assert.deepEqual(
            slide.levels.map((l) => l.downsample),
            [1, 2, 4],
          );
        }
        assert.deepEqual(slide.mpp, { x: MPP, y: MPP });
        assert.deepEqual(resolveSlideMpp(s.file, slide.mpp), { mpp: MPP, source: 'metadata' });
      } finally {
        slide.close();
      }
    }
  });

  test('segmentation matches the generic TIFF: exactly for the same pixels, on all but 2% of pixels across JPEG', () => {
    const t = labels.tiff!;
    assert.equal(t.length, 256 * 192);
    assert.ok(new Set(t).size > 2, 'the labels hold several classes, so agreement means something');
    assert.ok(labels.philips!.equals(t), 'Philips deflate = generic deflate');
    assert.ok(labels.svs!.equals(labels['tiff-jpeg']!), 'SVS = generic TIFF with the same JPEG tiles');
    assert.ok(labels['philips-jpeg']!.equals(labels['tiff-jpeg']!), 'Philips JPEG = generic TIFF JPEG');
    const jpeg = differing(labels.svs!, t);
    assert.ok(jpeg <= 0.02, `SVS (JPEG q90) vs deflate: ${(100 * jpeg).toFixed(2)}% of label pixels differ`);
  });

  test('an SVS must be named .svs, and an unknown layout is refused', async () => {
    const o = { ...SLIDE, width: 64, height: 64 };
    await assert.rejects(writeSyntheticSlide({ out: join(dir, 'x.tif'), ...o, format: 'svs' }), /x\.tif: .*SVS slide must be a \.svs file/);
    await assert.rejects(
      writeSyntheticSlide({ out: join(dir, 'x.tif'), ...o, format: 'ndpi' as SlideFormat }),
      /format must be one of tiff, svs, philips/,
    );
  });

  test('a slide with no pixel size anywhere is refused, naming --mpp', async () => {
    // An Aperio description without MPP and no resolution tags: nothing says how large a pixel is.
    const path = join(dir, 'no_mpp.svs');
    const writer = await PyramidalTiffWriter.create(path, {
      width: 128,
      height: 128,
      channels: 3,
      tileSize: 128,
      compression: 'jpeg',
      description: 'Aperio Image Library\r\n128x128 (128x128) JPEG/RGB|AppMag = 20',
    });
    await writer.writeBand(new Uint8Array(128 * 128 * 3).fill(200));
    await writer.close();
    const slide = OpenSlide.open(path);
    try {
      assert.equal(slide.vendor, 'aperio');
      assert.equal(slide.mpp, undefined);
      assert.throws(
        () => resolveSlideMpp(path, slide.mpp),
        (err: Error) => err instanceof MppError && err.message.startsWith(`${path}: no pixel size`) && /--mpp/.test(err.message),
      );
    } finally {
      slide.close();
    }
    await assert.rejects(segmentSlide(path, colourPredictor, { out: join(dir, 'no_mpp_labels.tif'), tissue: false }), /--mpp/);
  });
});
