// `npm run bench:viewer`: what the viewer costs on a 10,000 x 10,000 synthetic slide at 0.5 um/px with its
// labels at 1.0 um/px (as the slide student makes them): the seconds to write it, and its size on disk by
// layer (the slide's JPEG pyramid at the scan's own pixels, the four class layers, labels.js). Writes
// bench/results/viewer.json.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classLayer, DZI_NAME, LABELS_SCRIPT, writeOverlayViews } from '../src/slides/export/deepzoom.js';
import { openLabelTiff } from '../src/slides/io/label_raster.js';
import { OpenSlide } from '../src/slides/io/openslide.js';
import { slideRgbBands } from '../src/slides/io/rgb_bands.js';
import { writeSyntheticSlide } from '../src/synth/slide/slide.js';
import { writeBenchResult } from './results_file.js';

const SIDE = 10_000;
const dir = mkdtempSync(join(tmpdir(), 'mmfd-bench-viewer-'));

/** Bytes and files under a folder. */
function usage(path: string): { bytes: number; files: number } {
  if (!statSync(path).isDirectory()) return { bytes: statSync(path).size, files: 1 };
  return readdirSync(path).reduce(
    (sum, f) => {
      const u = usage(join(path, f));
      return { bytes: sum.bytes + u.bytes, files: sum.files + u.files };
    },
    { bytes: 0, files: 0 },
  );
}

try {
  const slide = await writeSyntheticSlide({ out: join(dir, 'slide.tif'), width: SIDE, height: SIDE, seed: 1, mpp: 0.5 });
  const labels = await openLabelTiff(slide.labels, 1);
  const opened = OpenSlide.open(slide.slide);
  const out = join(dir, 'overlay');
  const started = process.hrtime.bigint();
  try {
    await writeOverlayViews(slideRgbBands(opened, 1, SIDE, SIDE), labels, out, { title: 'bench', mpp: 0.5, labelScale: 2 });
  } finally {
    opened.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const mb = (path: string) => Number((usage(path).bytes / 1e6).toFixed(1));
  const classes = [0, 1, 2, 3].map((c) => usage(join(out, `${classLayer(c)}_files`)));
  const result = {
    slide: { width: SIDE, height: SIDE, mpp: 0.5, label_mpp: 1.0, tiff_mb: mb(slide.slide) },
    seconds,
    total_mb: mb(out),
    slide_layer: { mb: mb(join(out, `${DZI_NAME}_files`)), tiles: usage(join(out, `${DZI_NAME}_files`)).files },
    class_layers: {
      mb: Number((classes.reduce((s, u) => s + u.bytes, 0) / 1e6).toFixed(1)),
      tiles: classes.reduce((s, u) => s + u.files, 0),
    },
    labels_js_mb: mb(join(out, LABELS_SCRIPT)),
    cpus: (await import('node:os')).cpus().length,
  };
  console.log(`viewer for a ${SIDE} x ${SIDE} slide: ${seconds.toFixed(1)} s, ${result.total_mb} MB`, result);
  writeBenchResult('viewer', result);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
