// HTML reports of segmented slides, through the project's report page (viz/report.ts): per slide, the
// overlay thumbnail, the run's record and the measurement table; per cohort, one row per slide (failed ones
// with their error) and every thumbnail. Pictures are linked relative to the report, so a slide folder or the
// whole output folder can be moved or zipped and still opens offline.
import { FINAL_CLASSES } from '../data/classes.js';
import { CLASS_KEYS, type SlideMeasurements } from '../slides/export/measure.js';
import { type Cell, type MetricsTable, writeReport } from '../viz/report.js';
import type { Manifest } from './manifest.js';

const value = (v: number | null): Cell => (v === null ? '—' : v);

/** The measurement table of one slide: measure, value, unit. */
export function measurementRows(m: SlideMeasurements): Cell[][] {
  const rows: Cell[][] = [['Tissue area', m.tissue_area_mm2, 'mm²']];
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

const OVERLAP_RULES =
  'villus area includes its capillaries; classes may overlap, so fractions need not sum to 1; counts are 4-connected regions';

export interface SlideReportInput {
  /** The slide's output name. */
  name: string;
  manifest: Manifest;
  measurements: SlideMeasurements;
  /** The overlay thumbnail, inside the report's folder. */
  thumbnail: string;
}

export async function writeSlideReport(path: string, input: SlideReportInput): Promise<void> {
  const { manifest: man, measurements: m } = input;
  const legend = FINAL_CLASSES.map((c) => `${c.display} rgb(${c.colour.join(',')})`).join(', ');
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
        ['Zoomable overlay', `${man.outputs.viewer} (open in a browser; no server needed)`],
        ['QuPath annotations', `${man.outputs.geojson} (File → Import objects)`],
        ['Overlap rules', OVERLAP_RULES],
        ['mmfd', man.mmfd_version],
      ],
    },
    tables: [{ caption: 'Measurements', columns: ['Measure', 'Value', 'Unit'], rows: measurementRows(m), decimals: 4 }],
    overlays: [{ path: input.thumbnail, caption: `Overlay at alpha 0.5: ${legend}` }],
  });
}

export interface CohortReportRow {
  name: string;
  status: 'done' | 'skipped' | 'failed';
  error?: string;
  measurements?: SlideMeasurements;
  /** The slide's thumbnail, inside the cohort report's folder. */
  thumbnail?: string;
}

export async function writeCohortReport(path: string, rows: readonly CohortReportRow[]): Promise<void> {
  const table: MetricsTable = {
    caption: 'Slides (villus area includes its capillaries; densities per mm² of villus)',
    columns: ['Slide', 'Status', 'Tissue mm²', 'Villus', 'Fibrin', 'Capillary / villus', 'Capillaries / mm²', 'Aggregates / mm²'],
    rows: rows.map((r) => {
      const m = r.measurements;
      const status = r.status === 'failed' ? `failed: ${r.error ?? ''}` : r.status === 'skipped' ? 'done (earlier run)' : 'done';
      if (m === undefined) return [r.name, status, '—', '—', '—', '—', '—', '—'];
      return [
        r.name,
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
        ['Per-slide reports', '<slide>/report.html'],
        ['Table', 'cohort.csv'],
      ],
    },
    tables: [table],
    overlays: rows.flatMap((r) => (r.thumbnail === undefined ? [] : [{ path: r.thumbnail, caption: r.name }])),
  });
}
