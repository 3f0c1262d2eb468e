// Placental measurements of one slide from its label map (bit flags, label_raster.ts) at a known mpp, in one
// streaming pass: a histogram of label values per band for the areas, run labelling for the counts.
//
// Overlap rules (the classes are multi-label, as the networks' sigmoid outputs are):
// - Tissue is every pixel with the tissue bit or any class bit.
// - Villus area includes its capillaries: villus = villus bit OR capillary bit, so a capillary predicted
//   without the villus bit around it still counts as villus (reported as capillary_outside_villus_mm2).
// - Every other class is its own bit. Classes may overlap (an aggregate on a villus border is in both), so
//   the fractions of tissue need not sum to 1.
// - capillary_to_villus_area_ratio = capillary area / villus area; fibrin_fraction = fibrin deposit area /
//   tissue area (the same number as the fibrin deposit's fraction_of_tissue, named as the literature does).
// - Counts are 4-connected regions of the capillary bit and of the trophoblast-aggregation bit (the regions
//   the GeoJSON export writes as features) of at least min_object_um2; smaller specks still count in areas.
//   Densities are counts per mm^2 of villus; null when there is no villus.
import { CLASS_BITS, classBit, FINAL_CLASSES, TISSUE_BIT } from '../../data/classes.js';
import { formatColumns } from '../../data/csv.js';
import { writeFileAtomic } from '../../torch/io/files.js';
import { type LabelRaster, labelBands } from '../io/label_raster.js';
import { RunLabeller, rowRuns } from './row_runs.js';

export const DEFAULT_MIN_OBJECT_UM2 = 20;

const classIndex = (code: string) => FINAL_CLASSES.findIndex((c) => c.code === code);
const [V, F, C, A] = ['villit', 'thrombus', 'bloodvessel', 'cellgroup'].map(classIndex) as [number, number, number, number];
const [VILLUS, CAPILLARY, AGGREGATE] = [classBit(V), classBit(C), classBit(A)];
/** The bits whose pixels make up each class's area: the villus takes in its capillaries. */
const AREA_BITS = FINAL_CLASSES.map((_, c) => (c === V ? VILLUS | CAPILLARY : classBit(c)));

/** A class's key in measurement files: its display name in snake case ('Fibrin Deposit' -> 'fibrin_deposit'). */
export const CLASS_KEYS = FINAL_CLASSES.map((c) => c.display.toLowerCase().replace(/\s+/g, '_'));

export interface TissueMeasurement {
  area_mm2: number;
  fraction_of_tissue: number | null;
}

export interface SlideMeasurements {
  mpp: number;
  min_object_um2: number;
  tissue_area_mm2: number;
  /** By class key, in class order. */
  tissues: Record<string, TissueMeasurement>;
  capillary_to_villus_area_ratio: number | null;
  capillary_count: number;
  capillary_density_per_mm2_villus: number | null;
  trophoblast_aggregate_count: number;
  trophoblast_aggregate_density_per_mm2_villus: number | null;
  fibrin_fraction: number | null;
  capillary_outside_villus_mm2: number;
  /** The exact pixel counts everything above comes from. */
  pixels: { tissue: number; capillary_outside_villus: number } & Record<string, number>;
}

export interface MeasureOptions {
  /** Microns per pixel of the raster. */
  mpp: number;
  /** Smallest capillary or trophoblast aggregate counted, in um^2; default DEFAULT_MIN_OBJECT_UM2. */
  minObjectUm2?: number;
  /** Called after each band with (rows done, rows in all). */
  onProgress?: (done: number, total: number) => void;
}

export async function measureSlide(raster: LabelRaster, options: MeasureOptions): Promise<SlideMeasurements> {
  const { mpp } = options;
  const minObjectUm2 = options.minObjectUm2 ?? DEFAULT_MIN_OBJECT_UM2;
  if (!(mpp > 0 && Number.isFinite(mpp))) throw new Error(`${raster.source}: mpp must be a positive number to measure (got ${mpp})`);
  if (!(minObjectUm2 >= 0)) throw new Error(`${raster.source}: the minimum object size must be >= 0 um^2 (got ${minObjectUm2})`);
  const histogram = new Float64Array(256);
  const counted = [CAPILLARY, AGGREGATE];
  const labellers = counted.map(() => new RunLabeller());
  const runs = counted.map(() => [] as number[]);
  for await (const band of labelBands(raster)) {
    const { data, rows } = band;
    for (let i = 0; i < rows * raster.width; i++) histogram[data[i]!]!++;
    for (let r = 0; r < rows; r++) {
      rowRuns(data, r * raster.width, raster.width, counted, runs);
      for (let k = 0; k < counted.length; k++) labellers[k]!.next(runs[k]!);
    }
    options.onProgress?.(band.y0 + rows, raster.height);
  }

  const pixelsWhere = (test: (value: number) => boolean) => histogram.reduce((sum, n, value) => (test(value) ? sum + n : sum), 0);
  // Multiplied out before dividing, so whole areas stay whole: 270,000 px at 1 um/px is 0.27 mm^2, not 0.26999...
  const mm2 = (pixels: number) => (pixels * mpp * mpp) / 1e6;
  const minPixels = minObjectUm2 / (mpp * mpp);
  const [capillaries, aggregates] = labellers.map((l) => [...l.components()].filter((c) => c.pixels >= minPixels).length) as [
    number,
    number,
  ];

  const tissue = pixelsWhere((v) => (v & (TISSUE_BIT | CLASS_BITS)) !== 0);
  const classPixels = AREA_BITS.map((bits) => pixelsWhere((v) => (v & bits) !== 0));
  const outside = pixelsWhere((v) => (v & CAPILLARY) !== 0 && (v & VILLUS) === 0);
  const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
  const villusMm2 = mm2(classPixels[V]!);

  return {
    mpp,
    min_object_um2: minObjectUm2,
    tissue_area_mm2: mm2(tissue),
    tissues: Object.fromEntries(
      CLASS_KEYS.map((key, c) => [key, { area_mm2: mm2(classPixels[c]!), fraction_of_tissue: ratio(classPixels[c]!, tissue) }]),
    ),
    capillary_to_villus_area_ratio: ratio(classPixels[C]!, classPixels[V]!),
    capillary_count: capillaries,
    capillary_density_per_mm2_villus: ratio(capillaries, villusMm2),
    trophoblast_aggregate_count: aggregates,
    trophoblast_aggregate_density_per_mm2_villus: ratio(aggregates, villusMm2),
    fibrin_fraction: ratio(classPixels[F]!, tissue),
    capillary_outside_villus_mm2: mm2(outside),
    pixels: { tissue, capillary_outside_villus: outside, ...Object.fromEntries(CLASS_KEYS.map((key, c) => [key, classPixels[c]!])) },
  };
}

/** The per-slide JSON: the slide's name, then the measurements. */
export async function writeMeasurementsJson(path: string, slide: string, m: SlideMeasurements): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify({ slide, ...m }, null, 2)}\n`);
}

/** Cohort CSV columns, in order, with how each is read from a slide's measurements. */
export const COHORT_COLUMNS: readonly [string, (m: SlideMeasurements) => number | null][] = [
  ['mpp', (m) => m.mpp],
  ['tissue_area_mm2', (m) => m.tissue_area_mm2],
  ...CLASS_KEYS.flatMap((key): [string, (m: SlideMeasurements) => number | null][] => [
    [`${key}_area_mm2`, (m) => m.tissues[key]!.area_mm2],
    [`${key}_fraction_of_tissue`, (m) => m.tissues[key]!.fraction_of_tissue],
  ]),
  ['capillary_to_villus_area_ratio', (m) => m.capillary_to_villus_area_ratio],
  ['capillary_count', (m) => m.capillary_count],
  ['capillary_density_per_mm2_villus', (m) => m.capillary_density_per_mm2_villus],
  ['trophoblast_aggregate_count', (m) => m.trophoblast_aggregate_count],
  ['trophoblast_aggregate_density_per_mm2_villus', (m) => m.trophoblast_aggregate_density_per_mm2_villus],
  ['fibrin_fraction', (m) => m.fibrin_fraction],
  ['capillary_outside_villus_mm2', (m) => m.capillary_outside_villus_mm2],
  ['min_object_um2', (m) => m.min_object_um2],
];

/** One row per slide (slides that failed have an empty row and their error); null values are empty fields. */
export async function writeCohortCsv(
  path: string,
  rows: readonly { slide: string; measurements?: SlideMeasurements; error?: string }[],
): Promise<void> {
  const columns: Record<string, string[]> = { slide: rows.map((r) => r.slide) };
  for (const [name, read] of COHORT_COLUMNS) {
    columns[name] = rows.map((r) => {
      const v = r.measurements === undefined ? null : read(r.measurements);
      return v === null ? '' : String(v);
    });
  }
  columns.error = rows.map((r) => r.error ?? '');
  await writeFileAtomic(path, formatColumns(columns));
}
