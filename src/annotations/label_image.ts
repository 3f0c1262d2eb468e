// Label images as annotations: a plain or pyramidal TIFF or a PNG beside the slide, at the slide's level-0 size or a
// uniform reduction of it (level 0 of a pyramid is read; a pixel then stands for its block of level-0 pixels). One channel: mmfd's bit flags (data/classes.ts LABEL_BITS: 1 villus, 2 fibrin,
// 4 capillary, 8 trophoblast aggregation, 16 tissue), as `mmfd synth-slide`'s truth and `mmfd segment`'s labels.tif
// hold them. Three channels: class colours, those of the PMFT layers (meta_info.json cls2clr) or of mmfd's exports
// (QuPath's label export with mmfd's class colours); black is background. The class map's `values:` and `colours:`
// name other encodings (QuPath's indexed export: 0 background, 1, 2, ... its classes in the order chosen there). Every pixel of the image is labelled;
// patches are cut from the box around its classes. A pixel is sampled as polygons are (rasterise.ts), so a label
// image and the GeoJSON traced from it give the same patches.
import sharp from 'sharp';
import { FINAL_CLASSES, LABEL_BITS, RAW_CLASSES } from '../data/classes.js';
import { packRgb } from '../data/labels.js';
import { recordedGrid } from '../slides/io/raster_grid.js';
import { CLASS_TABLE } from '../synth/patch/labels.js';
import type { ClassMap } from './class_map.js';
import { AnnotationError } from './errors.js';
import type { Box } from './geometry.js';
import { gridBox, samplesPerAxis } from './rasterise.js';
import type { AnnotationSource, SourceOptions } from './source.js';

const raw = (name: string) => RAW_CLASSES.findIndex((c) => c.name === name);

/** Bit flag -> raw class (the villus bit is the reference's 'villi'). */
const BIT_CLASSES: readonly [number, number][] = [
  [LABEL_BITS.villus, raw('villi')],
  [LABEL_BITS.fibrin, raw('thrombus')],
  [LABEL_BITS.capillary, raw('bloodvessel')],
  [LABEL_BITS.aggregate, raw('cellgroup')],
];
const KNOWN_BITS = BIT_CLASSES.reduce((m, [bit]) => m | bit, LABEL_BITS.tissue);

/** Packed colour -> raw class: the PMFT layers' colours, then mmfd's display colours for those not taken. */
const COLOUR_CLASSES = new Map<number, number>([
  ...FINAL_CLASSES.map((f) => [packRgb(...f.colour), raw(f.from[0]!)] as [number, number]),
  ...CLASS_TABLE.map((c, k) => [packRgb(...c.rgb), k] as [number, number]),
]);

/**
 * Raw classes of a pixel value: mmfd bit flags for one channel, or indices through the map's `values:` when it has
 * them; packed colours for three, the map's `colours:` first. Undefined for a value that means nothing.
 */
function classesOf(value: number, channels: number, map: ClassMap): number[] | undefined {
  const named = channels === 1 ? map.values : map.colours;
  if (value === 0 && (channels === 3 || named.size > 0)) return [];
  const name = named.get(value);
  if (name !== undefined) {
    const target = map.lookup(name);
    if (target === undefined) return undefined;
    return typeof target === 'number' ? [target] : [];
  }
  if (channels === 1)
    return named.size > 0 || value & ~KNOWN_BITS ? undefined : BIT_CLASSES.filter(([bit]) => value & bit).map(([, k]) => k);
  const k = COLOUR_CLASSES.get(value);
  return k === undefined ? undefined : [k];
}

export async function labelImageSource(file: string, o: SourceOptions): Promise<AnnotationSource> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new AnnotationError(`${file}: cannot read it as a label image: ${(err as Error).message}`);
  }
  // A label map mmfd padded to a full pyramid (labels.tif, a synthetic truth) is read within its true size.
  const grid = meta.format === 'tiff' ? recordedGrid(file) : undefined;
  const [width, height] = [Math.min(grid?.width ?? Infinity, meta.width ?? 0), Math.min(grid?.height ?? Infinity, meta.height ?? 0)];
  // Level-0 pixels per label pixel along each axis: 1 at the slide's size; a label map made at a coarser pixel size
  // (`mmfd segment`'s labels.tif, a downsampled export) covers the slide with both the same.
  const [sx, sy] = [o.slideWidth / width, o.slideHeight / height];
  if (!(sx >= 1 && sy >= 1) || Math.abs(sx - sy) > Math.max(1 / width, 1 / height) * Math.max(sx, sy) + 1e-9) {
    throw new AnnotationError(
      `${file}: the label image is ${width} x ${height} pixels, the slide ${o.slide} ${o.slideWidth} x ${o.slideHeight}: ` +
        'neither its size nor a reduction of it; was it made for another slide?',
    );
  }
  const channels = meta.channels === 1 || meta.channels === 2 ? 1 : 3;
  const read = async (left: number, top: number, w: number, h: number): Promise<Uint32Array> => {
    let img = sharp(file, { limitInputPixels: false }).extract({ left, top, width: w, height: h });
    img = channels === 1 ? img.extractChannel(0) : img.removeAlpha().toColourspace('srgb');
    const data = await img.raw().toBuffer();
    const out = new Uint32Array(w * h);
    for (let i = 0; i < out.length; i++) out[i] = channels === 1 ? data[i]! : packRgb(data[3 * i]!, data[3 * i + 1]!, data[3 * i + 2]!);
    return out;
  };
  const lookup = new Map<number, number[]>();
  const decode = (value: number, x: number, y: number): number[] => {
    let ks = lookup.get(value);
    if (ks === undefined) {
      ks = classesOf(value, channels, o.classMap);
      if (ks === undefined) {
        const shown = channels === 1 ? `value ${value}` : `colour RGB (${value >>> 16}, ${(value >>> 8) & 255}, ${value & 255})`;
        throw new AnnotationError(
          `${file}: ${shown} at pixel (${x}, ${y}) is no class: ${
            channels === 1
              ? "one-channel label images hold mmfd bit flags (1, 2, 4, 8, 16), or indices the class map's 'values:' names"
              : "colours must be the PMFT or mmfd class colours, black, or named in the class map's 'colours:'"
          }`,
        );
      }
      lookup.set(value, ks);
    }
    return ks;
  };
  // The box around every classed pixel, read band by band.
  const box: Box = [Infinity, Infinity, -Infinity, -Infinity];
  const band = 256;
  for (let y0 = 0; y0 < height; y0 += band) {
    const rows = Math.min(band, height - y0);
    const values = await read(0, y0, width, rows);
    for (let i = 0; i < values.length; i++) {
      if (values[i] === 0) continue;
      const [x, y] = [i % width, y0 + Math.floor(i / width)];
      if (decode(values[i]!, x, y).length === 0) continue;
      box[0] = Math.min(box[0], x * sx);
      box[1] = Math.min(box[1], y * sy);
      box[2] = Math.max(box[2], (x + 1) * sx);
      box[3] = Math.max(box[3], (y + 1) * sy);
    }
  }
  if (!(box[2] > box[0])) throw new AnnotationError(`${file}: the label image holds no class (every pixel is background)`);
  const classCount = RAW_CLASSES.length - 1;
  return {
    file,
    regions: [{ what: `${file}: its labelled pixels`, box }],
    async cover(grid) {
      const s = samplesPerAxis(grid.step);
      const sub = grid.step / s;
      const classes = Array.from({ length: classCount }, () => new Uint16Array(grid.width * grid.height));
      const labelled = new Uint16Array(grid.width * grid.height);
      const [gx0, gy0, gx1, gy1] = gridBox(grid);
      const [left, top] = [Math.max(0, Math.floor(gx0 / sx)), Math.max(0, Math.floor(gy0 / sy))];
      const [right, bottom] = [Math.min(width, Math.ceil(gx1 / sx)), Math.min(height, Math.ceil(gy1 / sy))];
      if (right <= left || bottom <= top) return { classes, labelled };
      const values = await read(left, top, right - left, bottom - top);
      const w = right - left;
      for (let r = 0; r < grid.height * s; r++) {
        const y = Math.floor((grid.y0 + (r + 0.5) * sub) / sy);
        if (y < top || y >= bottom) continue;
        const out = Math.floor(r / s) * grid.width;
        for (let c = 0; c < grid.width * s; c++) {
          const x = Math.floor((grid.x0 + (c + 0.5) * sub) / sx);
          if (x < left || x >= right) continue;
          const i = out + Math.floor(c / s);
          labelled[i]!++;
          for (const k of decode(values[(y - top) * w + (x - left)]!, x, y)) classes[k]![i]!++;
        }
      }
      return { classes, labelled };
    },
    anchors: () => [],
  };
}
