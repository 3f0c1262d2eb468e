// `mmfd patches`: annotated slides to a PMFT training set. For each slide: its mpp (the contract of `mmfd
// segment`, slides/io/mpp.ts), the pyramid level to read and the grid at the asked pixel size; its annotations
// (GeoJSON or a label image, found beside the slide or in --annotations); patches laid on a grid over each
// annotated region, centred in it, kept when enough of them is labelled (all of it by default), plus, with
// --per-class-min, patches centred on annotations of classes still seen in too few; then the pixels (area
// resampling, slides/io/resample.ts) and both label layers in the reference's colours. The dataset is built
// beside --out and renamed when complete (data/pmft_writer.ts), with seeded train/val and few-shot splits.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { SlideInput } from '../cohort/slide_list.js';
import { ensureFewshotSplits } from '../data/fewshot.js';
import { PmftDataset } from '../data/pmft.js';
import { buildPmftDataset, SPLIT_PREFIX, writeSampleFiles } from '../data/pmft_writer.js';
import { checkUpsample, chooseLevel, MppError, type ReadPlan, resolveSlideMpp, type SlideMpp } from '../slides/io/mpp.js';
import { OpenSlide } from '../slides/io/openslide.js';
import { readGridWindow } from '../slides/io/resample.js';
import { CLASS_TABLE, cls2clr, encodeLayer } from '../synth/patch/labels.js';
import { SynthRng, synthSeed } from '../synth/prng.js';
import type { ClassMap } from './class_map.js';
import { AnnotationError } from './errors.js';
import { readGeoJson } from './geojson.js';
import { labelImageSource } from './label_image.js';
import { type PatchGrid, samplesPerAxis } from './rasterise.js';
import { regionAt, regionGroups, splitByGroup } from './region_split.js';
import { type AnnotationSource, type Coverage, geoJsonSource } from './source.js';

/** Unlabelled pixels (outside every region, only where --min-labelled lets patches reach): in both layers. */
export const IGNORE_RGB = [128, 128, 128] as const;

/** Raw classes of each layer (CLASS_TABLE index = raw channel) and of each final class, for --per-class-min. */
const LAYER_CLASSES = [0, 1].map((layer) => CLASS_TABLE.flatMap((c, k) => (c.layer === layer ? [k] : [])));
const FINAL_OF_RAW = [0, 0, 0, 1, 2, 3];
const FINAL_NAMES = ['villus', 'fibrin deposit', 'capillary', 'trophoblast aggregation'];

export interface PatchOptions {
  slides: readonly SlideInput[];
  /** A GeoJSON or label image file (one slide), or a folder to find them in; default: beside each slide. */
  annotations?: string;
  out: string;
  /** Microns per patch pixel. */
  mpp: number;
  /** Patch side in pixels. */
  size: number;
  classMap: ClassMap;
  ignoreUnmapped?: boolean;
  /** Share of a patch's pixels that must be labelled, in (0, 1]; below 1 the rest is marked ignore. Default 1. */
  minLabelled?: number;
  /** Patches that must show each final class, when the annotations allow (default 0). */
  perClassMin?: number;
  seed: number;
  /** Few-shot percentages to write splits for (100 is always written). */
  fewshot?: readonly number[];
  /** The slides' level-0 mpp, overriding their metadata. */
  slideMpp?: number;
  allowUpsample?: boolean;
  force?: boolean;
  onNote?: (line: string) => void;
  onProgress?: (done: number, total: number) => void;
}

export interface SlidePatches {
  slide: string;
  annotations: string;
  slideMpp: number;
  level: number;
  patches: number;
  /** Patches showing each final class. */
  perClass: number[];
}

export interface PatchDataset {
  dir: string;
  samples: string[];
  train: string[];
  val: string[];
  slides: SlidePatches[];
}

const GEOJSON = ['.geojson', '.json'];
const IMAGE = ['_labels.tif', '_labels.tiff', '_labels.png', '-labels.png', '.png'];

/** The annotation file of a slide: `annotations` itself when it is a file, else the first candidate found in it (or beside the slide). */
export function findAnnotations(slide: SlideInput, annotations: string | undefined, slideCount: number): string {
  if (annotations !== undefined && existsSync(annotations) && statSync(annotations).isFile()) {
    if (slideCount > 1) throw new AnnotationError(`${annotations}: one annotation file for ${slideCount} slides; give a folder of them`);
    return annotations;
  }
  if (annotations !== undefined && !existsSync(annotations)) throw new AnnotationError(`${annotations}: no such annotation file or folder`);
  const dir = annotations ?? dirname(slide.path);
  const stem = basename(slide.path, extname(slide.path));
  const candidates = [
    ...GEOJSON.map((e) => join(dir, `${stem}${e}`)),
    join(dir, slide.name, `${slide.name}.geojson`), // an `mmfd segment` output folder
    ...IMAGE.map((e) => join(dir, `${stem}${e}`)),
  ];
  const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  if (found === undefined) throw new AnnotationError(`${slide.path}: no annotations found (looked for ${candidates.join(', ')})`);
  return found;
}

async function openSource(file: string, o: PatchOptions, slide: OpenSlide): Promise<AnnotationSource> {
  const [slideWidth, slideHeight] = slide.dimensions;
  const so = { classMap: o.classMap, ignoreUnmapped: o.ignoreUnmapped ?? false, slideWidth, slideHeight, slide: slide.path };
  if (GEOJSON.includes(extname(file).toLowerCase())) return geoJsonSource(file, readGeoJson(file, o.onNote), so);
  return labelImageSource(file, so);
}

/** A candidate patch: its top-left in grid pixels. */
interface Place {
  gx: number;
  gy: number;
}

const patchGrid = (plan: ReadPlan, p: Place, size: number): PatchGrid => ({
  x0: p.gx * plan.gridDownsample,
  y0: p.gy * plan.gridDownsample,
  step: plan.gridDownsample,
  width: size,
  height: size,
});

/**
 * Patches laid edge to edge over a box (level-0 pixels), the grid centred in it: as many as fit inside, or, when
 * patches may reach past the labelled area (`cover`), as many as cover it; at least one.
 */
function gridPlaces(box: readonly number[], plan: ReadPlan, size: number, cover: boolean): Place[] {
  const axis = (lo: number, hi: number, limit: number) => {
    const [a, b] = [lo / plan.gridDownsample, hi / plan.gridDownsample];
    const fit = (b - a) / size;
    const n = Math.max(1, cover ? Math.ceil(fit - 1e-9) : Math.floor(fit + 1e-9));
    const start = Math.round((a + b) / 2 - (n * size) / 2);
    return Array.from({ length: n }, (_, i) => Math.min(Math.max(0, start + i * size), Math.max(0, limit - size)));
  };
  const xs = axis(box[0]!, box[2]!, plan.width);
  const ys = axis(box[1]!, box[3]!, plan.height);
  return ys.flatMap((gy) => xs.map((gx) => ({ gx, gy })));
}

/** Both label layers of a patch from its coverage: a class holds a pixel when it covers at least half of it. */
export function labelLayers(cov: Coverage, samples: number): { seml0: Uint8Array; seml1: Uint8Array; labelled: number; finals: boolean[] } {
  const n = cov.labelled.length;
  const codes = [new Uint8Array(n), new Uint8Array(n)];
  const ignore = new Uint8Array(n);
  const finals = [false, false, false, false];
  let labelled = 0;
  for (let i = 0; i < n; i++) {
    if (2 * cov.labelled[i]! < samples) {
      ignore[i] = 1;
      continue;
    }
    labelled++;
    for (const [layer, ks] of LAYER_CLASSES.entries()) {
      let best = -1;
      let most = 0;
      // The class covering most of the pixel; on a tie the later one (fibrin over villus, aggregate over capillary).
      for (const k of ks) {
        const c = cov.classes[k]![i]!;
        if (2 * c >= samples && c >= most) [best, most] = [k, c];
      }
      if (best >= 0) {
        codes[layer]![i] = best + 1;
        finals[FINAL_OF_RAW[best]!] = true;
      }
    }
  }
  const [seml0, seml1] = codes.map((c) => {
    const rgb = encodeLayer(c);
    for (let i = 0; i < n; i++) if (ignore[i]) rgb.set(IGNORE_RGB, 3 * i);
    return rgb;
  }) as [Uint8Array, Uint8Array];
  return { seml0, seml1, labelled, finals };
}

/** Float RGB planes [3, h, w] in [0, 1] as 8-bit HWC. */
function toRgb8(planes: Float32Array, n: number): Uint8Array {
  const out = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[3 * i + c] = Math.round(Math.min(1, Math.max(0, planes[c * n + i]!)) * 255);
  return out;
}

/** A patch kept: where, and which final classes it shows (its layers are made again when it is written, not held). */
interface Chosen {
  place: Place;
  finals: boolean[];
  /** The index of the region it was cut for (source.regions), for the split by region. */
  region: number;
}

/** The patches of one slide: the region grids, then extra patches for classes short of perClassMin. */
async function choosePatches(source: AnnotationSource, plan: ReadPlan, o: PatchOptions, slideIndex: number): Promise<Chosen[]> {
  const size = o.size;
  const samples = samplesPerAxis(plan.gridDownsample) ** 2;
  const need = Math.ceil((o.minLabelled ?? 1) * size * size - 1e-9);
  const chosen: Chosen[] = [];
  const taken = new Set<string>();
  const tryPlace = async (place: Place, region: number): Promise<boolean> => {
    const key = `${place.gx},${place.gy}`;
    if (taken.has(key)) return false;
    taken.add(key);
    const layers = labelLayers(await source.cover(patchGrid(plan, place, size)), samples);
    if (layers.labelled < need) return false;
    chosen.push({ place, finals: layers.finals, region });
    return true;
  };
  for (const [index, region] of source.regions.entries()) {
    let kept = 0;
    for (const place of gridPlaces(region.box, plan, size, (o.minLabelled ?? 1) < 1)) if (await tryPlace(place, index)) kept++;
    if (kept === 0) {
      const [w, h] = [region.box[2] - region.box[0], region.box[3] - region.box[1]].map((v) =>
        Math.round(v * (plan.gridMpp / plan.gridDownsample)),
      );
      o.onNote?.(
        `${region.what}: no ${size}-pixel patch at ${o.mpp} um/px (${Math.round(size * plan.gridMpp)} um) fits in it ` +
          `(${w} x ${h} um)${o.minLabelled === undefined || o.minLabelled >= 1 ? '; --min-labelled below 1 lets patches reach past it (marked ignore)' : ''}`,
      );
    }
  }
  const perClassMin = o.perClassMin ?? 0;
  if (perClassMin > 0) {
    const rng = new SynthRng(synthSeed(o.seed, 0xc1a5, slideIndex));
    const boxes = source.regions.map((r) => r.box);
    const count = (f: number) => chosen.filter((c) => c.finals[f]).length;
    for (let f = 0; f < FINAL_NAMES.length; f++) {
      const anchors = FINAL_OF_RAW.flatMap((ff, k) => (ff === f ? source.anchors(k) : []));
      for (let tries = 0; count(f) < perClassMin && anchors.length > 0 && tries < 20 * perClassMin; tries++) {
        const [x, y] = anchors[rng.int(0, anchors.length)]!;
        const clamp = (v: number, limit: number) =>
          Math.min(Math.max(0, Math.round(v / plan.gridDownsample - size / 2)), Math.max(0, limit - size));
        await tryPlace({ gx: clamp(x, plan.width), gy: clamp(y, plan.height) }, regionAt(boxes, x, y));
      }
    }
    // After every class's extras, which may show the others too.
    FINAL_NAMES.forEach((name, f) => {
      if (count(f) < perClassMin) o.onNote?.(`${source.file}: only ${count(f)} patch(es) show ${name} (--per-class-min ${perClassMin})`);
    });
  }
  return chosen;
}

interface Prepared {
  input: SlideInput;
  source: AnnotationSource;
  plan: ReadPlan;
  slideMpp: number;
}

/** A slide's mpp, read plan and checked annotations. */
async function prepare(input: SlideInput, o: PatchOptions): Promise<Prepared> {
  const file = findAnnotations(input, o.annotations, o.slides.length);
  const slide = OpenSlide.open(input.path);
  try {
    let slideMpp: SlideMpp;
    try {
      slideMpp = resolveSlideMpp(input.path, slide.mpp, o.slideMpp);
      checkUpsample(input.path, slideMpp, slide.mpp, o.mpp, o.allowUpsample);
    } catch (err) {
      // The contract's messages name segment's --mpp; here that flag is the patches' pixel size.
      if (err instanceof MppError) throw new MppError(err.message.replace(/--mpp\b/g, '--slide-mpp'));
      throw err;
    }
    const plan = chooseLevel(slide.levels, slideMpp.mpp, o.mpp);
    if (plan.width < o.size || plan.height < o.size) {
      throw new AnnotationError(
        `${input.path}: the slide is ${plan.width} x ${plan.height} pixels at ${o.mpp} um/px, smaller than one ${o.size}-pixel patch`,
      );
    }
    return { input, source: await openSource(file, o, slide), plan, slideMpp: slideMpp.mpp };
  } finally {
    slide.close();
  }
}

/** Cuts every slide's annotated patches into a PMFT dataset at `o.out`. */
export async function writePatchDataset(o: PatchOptions): Promise<PatchDataset> {
  if (!Number.isInteger(o.size) || o.size < 16 || o.size > 8192)
    throw new Error(`patch size must be an integer from 16 to 8192, got ${o.size}`);
  const minLabelled = o.minLabelled ?? 1;
  if (!(minLabelled > 0 && minLabelled <= 1)) throw new Error(`the labelled share of a patch must be in (0, 1], got ${minLabelled}`);
  // Every slide's annotations are read and checked before any pixel is cut, so bad input fails fast.
  const prepared: Prepared[] = [];
  for (const input of o.slides) prepared.push(await prepare(input, o));
  const slides: SlidePatches[] = [];
  const { dir, contents } = await buildPmftDataset(
    o.out,
    o.force ?? false,
    async (root) => {
      const samples: string[] = [];
      const groups: string[] = [];
      const chosen: Chosen[][] = [];
      for (const [index, p] of prepared.entries()) chosen.push(await choosePatches(p.source, p.plan, o, index));
      const total = chosen.reduce((n, c) => n + c.length, 0);
      for (const [index, p] of prepared.entries()) {
        const slide = OpenSlide.open(p.input.path);
        const regionGroup = regionGroups(
          p.source.regions.map((r) => r.box),
          o.size * p.plan.gridDownsample,
        );
        try {
          for (const c of chosen[index]!) {
            const [x, y] = [c.place.gx, c.place.gy].map((v) => Math.round(v * p.plan.gridDownsample));
            const name = `${p.input.name}_x${x}_y${y}`;
            const image = toRgb8(readGridWindow(slide, p.plan, c.place.gx, c.place.gy, o.size, o.size), o.size * o.size);
            const layers = labelLayers(
              await p.source.cover(patchGrid(p.plan, c.place, o.size)),
              samplesPerAxis(p.plan.gridDownsample) ** 2,
            );
            await writeSampleFiles(root, name, { width: o.size, height: o.size, image, seml0: layers.seml0, seml1: layers.seml1 });
            samples.push(name);
            groups.push(`${index}:${regionGroup[c.region]}`);
            o.onProgress?.(samples.length, total);
          }
        } finally {
          slide.close();
        }
        slides.push({
          slide: p.input.path,
          annotations: p.source.file,
          slideMpp: p.slideMpp,
          level: p.plan.level,
          patches: chosen[index]!.length,
          perClass: FINAL_NAMES.map((_, f) => chosen[index]!.filter((c) => c.finals[f]).length),
        });
      }
      if (samples.length === 0)
        throw new AnnotationError(`${o.out}: no patch could be cut from the annotated regions (see the notes above)`);
      const colours: Record<string, number> = cls2clr();
      if (minLabelled < 1) colours.ignore = IGNORE_RGB[0] * 65536 + IGNORE_RGB[1] * 256 + IGNORE_RGB[2];
      const meta = {
        cls2clr: colours,
        mpp: o.mpp,
        patches: {
          generator: 'mmfd patches',
          size: o.size,
          mpp: o.mpp,
          seed: o.seed,
          min_labelled: minLabelled,
          ...(minLabelled < 1 ? { ignore: 'pixels outside every annotated region: no class is known there' } : {}),
          slides: slides.map((s) => ({
            slide: s.slide,
            annotations: s.annotations,
            slide_mpp: s.slideMpp,
            level: s.level,
            patches: s.patches,
          })),
        },
      };
      const split = splitByGroup(
        samples.map((name, i) => ({ name, group: groups[i]! })),
        o.seed,
      );
      if (split.perPatch && samples.length > 1) {
        o.onNote?.(
          `${o.out}: the patches come from ${split.groups} region group, so train and val are split per patch and share that region's tissue; annotate at least two separate regions for an honest validation`,
        );
      }
      return { samples, train: split.train, val: split.val, meta };
    },
    (root) => {
      const percs = [...new Set([...(o.fewshot ?? []), 100])].sort((a, b) => a - b);
      ensureFewshotSplits(PmftDataset.open(root), SPLIT_PREFIX, percs, o.seed);
    },
  );
  return { dir, samples: contents.samples, train: contents.train, val: contents.val, slides };
}
