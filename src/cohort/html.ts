// HTML reports of segmented slides, through the project's report page (viz/report.ts): per slide, the
// overlay thumbnail, the run's record and the measurement table; per cohort, one row per slide (failed ones
// with their error, each finished one linked to its report and viewer; the table sorts by any column) and
// every thumbnail. Pictures and files are linked relative to the report, so a slide folder or the whole output
// folder can be moved or zipped and still opens offline. The slide itself is named, not linked: it lies
// outside the output folder and does not travel with it.
import { join } from 'node:path';
import { FINAL_CLASSES } from '../data/classes.js';
import { CLASS_KEYS, type SlideMeasurements } from '../slides/export/measure.js';
import { TISSUE_LEGEND } from '../viz/legend.js';
import { type Cell, formatCell, type Link, linkTo, type MetricsTable, writeReport } from '../viz/report.js';
import { MANIFEST, type Manifest } from './manifest.js';

const value = (v: number | null): Cell => (v === null ? '—' : v);

/** The measurement table of one slide: measure, value, unit. */
export function measurementRows(m: SlideMeasurements): [string, Cell, string][] {
  const rows: [string, Cell, string][] = [['Tissue area', m.tissue_area_mm2, 'mm²']];
  FINAL_CLASSES.forEach((c, i) => {
    const t = m.tissues[CLASS_KEYS[i]!]!;
    rows.push([`${c.display} area`, t.area_mm2, 'mm²'], [`${c.display} fraction of tissue`, value(t.fraction_of_tissue), '']);
  });
  rows.push(
    ['Capillary-to-villus area ratio', value(m.capillary_to_villus_area_ratio), ''],
    [`Capillaries (≥ ${m.min_object_um2} µm²)`, m.capillary_count, ''],
    ['Capillary density', value(m.capillary_density_per_mm2_villus), 'per mm² of villus'],
    [`Trophoblast aggregates (≥ ${m.min_object_um2} µm²)`, m.trophoblast_aggregate_count, ''],
    ['Trophoblast aggregate density', value(m.trophoblast_aggregate_density_per_mm2_villus), 'per mm² of villus'],
    ['Fibrin fraction', value(m.fibrin_fraction), 'of tissue'],
    ['Capillary outside any villus', m.capillary_outside_villus_mm2, 'mm²'],
  );
  return rows;
}

/** The measurement table as the viewer shows it beside the image: [measure, value with its unit]. */
export function measurementLines(m: SlideMeasurements): [string, string][] {
  return measurementRows(m).map(([measure, v, unit]) => [measure, `${formatCell(v, 4)} ${unit}`.trim()]);
}

/** The outputs a slide report links to, by their key in the manifest. */
const OUTPUTS: Readonly<Record<string, string>> = {
  viewer: 'Viewer (slide, classes, measurements; opens from disk, no server)',
  geojson: 'QuPath annotations (File → Import objects)',
  labels: 'Label map (pyramidal TIFF of bit flags)',
  measurements: 'Measurements (JSON)',
};

const OVERLAP_RULES =
  'villus area includes its capillaries; classes may overlap, so fractions need not sum to 1; counts are 4-connected regions';

export interface SlideReportInput {
  /** The slide's output name. */
  name: string;
  manifest: Manifest;
  measurements: SlideMeasurements;
  /** The overlay thumbnail, inside the report's folder. */
  thumbnail: string;
  /** The slide's folder (where the report goes): the outputs the report links to are in it. */
  folder: string;
}

export async function writeSlideReport(path: string, input: SlideReportInput): Promise<void> {
  const { manifest: man, measurements: m } = input;
  const outputs = Object.entries(OUTPUTS).flatMap(([key, what]): [string, Link][] => {
    const file = man.outputs[key];
    return file === undefined ? [] : [[what, linkTo(path, join(input.folder, file), file)]];
  });
  await writeReport(path, {
    title: `Slide ${input.name}`,
    run: {
      model: `${man.model.id} (sha256 ${man.model.sha256.slice(0, 16)}…)`,
      started: man.started,
      finished: man.finished,
      extra: [
        ['Slide', man.slide.path],
        ['Slide SHA-256', man.slide.sha256],
        ['Microns per pixel', `slide ${man.mpp.slide}, label map ${man.mpp.labels}`],
        ...outputs,
        ['Run record', linkTo(path, join(input.folder, MANIFEST), MANIFEST)],
        ['Overlap rules', OVERLAP_RULES],
        ['mmfd', man.mmfd_version],
      ],
    },
    tables: [{ caption: 'Measurements', columns: ['Measure', 'Value', 'Unit'], rows: measurementRows(m), decimals: 4 }],
    overlays: [{ path: input.thumbnail, caption: 'Classes over the slide at alpha 0.5' }],
    legend: TISSUE_LEGEND,
  });
}

export interface CohortReportRow {
  name: string;
  status: 'done' | 'skipped' | 'failed';
  error?: string;
  measurements?: SlideMeasurements;
  /** The slide's thumbnail, report and viewer, inside the cohort report's folder (finished slides). */
  thumbnail?: string;
  report?: string;
  viewer?: string;
}

/** The cohort report at `path`; `csv` is the cohort's table, linked from it. */
export async function writeCohortReport(path: string, rows: readonly CohortReportRow[], csv: string): Promise<void> {
  const table: MetricsTable = {
    caption: 'Slides (click a column to sort; villus area includes its capillaries)',
    columns: [
      'Slide (report)',
      'Viewer',
      'Status',
      'Tissue area (mm²)',
      'Villus (fraction of tissue)',
      'Fibrin (fraction of tissue)',
      'Capillary / villus (area ratio)',
      'Capillaries (per mm² of villus)',
      'Trophoblast aggregates (per mm² of villus)',
    ],
    sortable: true,
    rows: rows.map((r) => {
      const m = r.measurements;
      const status = r.status === 'failed' ? `failed: ${r.error ?? ''}` : r.status === 'skipped' ? 'done (earlier run)' : 'done';
      const name: Cell = r.report === undefined ? r.name : linkTo(path, r.report, r.name);
      const viewer: Cell = r.viewer === undefined ? '—' : linkTo(path, r.viewer, 'open');
      if (m === undefined) return [name, viewer, status, '—', '—', '—', '—', '—', '—'];
      return [
        name,
        viewer,
        status,
        m.tissue_area_mm2,
        value(m.tissues.villus!.fraction_of_tissue),
        value(m.fibrin_fraction),
        value(m.capillary_to_villus_area_ratio),
        value(m.capillary_density_per_mm2_villus),
        value(m.trophoblast_aggregate_density_per_mm2_villus),
      ];
    }),
    decimals: 4,
  };
  const failed = rows.filter((r) => r.status === 'failed').length;
  await writeReport(path, {
    title: `Cohort: ${rows.length} slide(s)${failed > 0 ? `, ${failed} failed` : ''}`,
    run: {
      extra: [
        ['Per-slide reports and viewers', 'linked from the table'],
        ['Table (CSV)', linkTo(path, csv)],
      ],
    },
    tables: [table],
    overlays: rows.flatMap((r) => (r.thumbnail === undefined ? [] : [{ path: r.thumbnail, caption: r.name }])),
    legend: TISSUE_LEGEND,
  });
}
