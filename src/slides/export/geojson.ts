// QuPath-compatible GeoJSON of a label map: a FeatureCollection with one Polygon Feature per 4-connected
// region of each class (contours.ts), holes kept as inner rings, coordinates in level-0 slide pixels with the
// origin at the top left, and the properties QuPath 0.4+ writes for annotations:
//   { "objectType": "annotation", "classification": { "name": "Villus", "color": [128, 0, 0] } }
// Classes may overlap (a capillary inside a villus is in both), so each class is traced on its own bit and
// a capillary is a region of its own, not a hole in its villus.
//
// The map is read band by band and features are written as their regions close, to a temporary file renamed
// to `path` when complete (AtomicFile). Tracing a reduced pyramid level (openLabelTiff(path, k)) is how huge
// slides are exported quickly: the polygons then follow that level's pixels, so their vertices fall on
// multiples of 2^k level-0 pixels and a boundary may be off by up to 2^k level-0 pixels (the 2x2-mode
// reduction can also drop regions thinner than that). At level 0 the polygons are exact.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CLASS_STYLES } from '../../data/classes.js';
import { AtomicFile } from '../../torch/io/files.js';
import { type LabelRaster, labelBands } from '../io/label_raster.js';
import { ContourTracer, type TracedRegion } from './contours.js';
import { rowRuns } from './row_runs.js';

export interface GeoJsonOptions {
  /** Level-0 slide pixels per pixel of the raster: the level's downsample times the slide pixels per label
   *  pixel (labels made at a coarser mpp than the slide's). Default 1. */
  scale?: number;
  /** The slide's level-0 size: coordinates are clipped to it (a reduced level's last pixel can reach past it). */
  slideWidth?: number;
  slideHeight?: number;
  /** Called after each band with (rows done, rows in all). */
  onProgress?: (done: number, total: number) => void;
}

export interface GeoJsonSummary {
  /** Features written per class, in class order. */
  features: number[];
  /** Raster pixels covered by each class's polygons. */
  pixels: number[];
}

/** Flush written text to the file once this much has piled up. */
const FLUSH_CHARS = 1 << 20;

export async function writeGeoJson(raster: LabelRaster, path: string, options: GeoJsonOptions = {}): Promise<GeoJsonSummary> {
  const scale = options.scale ?? 1;
  if (!(scale > 0 && Number.isFinite(scale))) throw new Error(`${path}: the GeoJSON scale must be a positive number (got ${scale})`);
  const maxX = options.slideWidth ?? raster.width * scale;
  const maxY = options.slideHeight ?? raster.height * scale;
  const coordinate = (v: number, max: number) => {
    const c = Math.min(v * scale, max);
    return Number.isInteger(c) ? c : Math.round(c * 1000) / 1000;
  };
  const summary: GeoJsonSummary = { features: CLASS_STYLES.map(() => 0), pixels: CLASS_STYLES.map(() => 0) };
  let text = '{"type":"FeatureCollection","features":[';
  let first = true;
  const feature = (c: number, region: TracedRegion) => {
    const style = CLASS_STYLES[c]!;
    const rings = region.rings.map((ring) => {
      const positions: string[] = [];
      for (let i = 0; i < ring.length; i += 2) positions.push(`[${coordinate(ring[i]!, maxX)},${coordinate(ring[i + 1]!, maxY)}]`);
      positions.push(positions[0]!); // GeoJSON rings repeat their first position at the end
      return `[${positions.join(',')}]`;
    });
    const properties = { objectType: 'annotation', classification: { name: style.name, color: style.colour } };
    text += `${first ? '\n' : ',\n'}{"type":"Feature","geometry":{"type":"Polygon","coordinates":[${rings.join(',')}]},"properties":${JSON.stringify(properties)}}`;
    first = false;
    summary.features[c]!++;
    summary.pixels[c]! += region.pixels;
  };
  const tracers = CLASS_STYLES.map((_, c) => new ContourTracer(raster.width, (region) => feature(c, region)));
  const bits = CLASS_STYLES.map((s) => s.bit);
  const runs = bits.map(() => [] as number[]);

  await mkdir(dirname(path), { recursive: true });
  const out = await AtomicFile.open(path);
  const file = out.handle;
  try {
    for await (const band of labelBands(raster)) {
      for (let r = 0; r < band.rows; r++) {
        rowRuns(band.data, r * raster.width, raster.width, bits, runs);
        for (let c = 0; c < tracers.length; c++) tracers[c]!.addRow(runs[c]!);
      }
      if (text.length >= FLUSH_CHARS) {
        await file.write(text);
        text = '';
      }
      options.onProgress?.(band.y0 + band.rows, raster.height);
    }
    for (const tracer of tracers) tracer.finish();
    text += '\n]}\n';
    await file.write(text);
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }
  return summary;
}
