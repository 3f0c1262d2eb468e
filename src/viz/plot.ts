// Training curves as a PNG: the loss terms over iterations in the top panel and the validation metrics
// (mIoU) in the bottom one, sharing the iteration axis. Built as SVG and rasterised by sharp.
import sharp from 'sharp';
import type { Rgb } from './overlay.js';
import { writeRaster } from './raster.js';
import { cssColour, type Rect, svgDocument, svgText, textWidth } from './svg.js';

export interface Series {
  name: string;
  /** [x, y] pairs in x order; a non-finite y breaks the line (e.g. a NaN loss). */
  points: readonly (readonly [number, number])[];
}

export interface CurvesInput {
  /** The top panel: loss terms against iteration. */
  losses: readonly Series[];
  /** The bottom panel, drawn when given: validation metrics against iteration. */
  validation?: readonly Series[];
  title?: string;
  xLabel?: string;
  lossLabel?: string;
  validationLabel?: string;
  /** Pixels; default 960. */
  width?: number;
}

/** Series colours in order, loss series first, then validation series (matplotlib's tab10). */
export const SERIES_COLOURS: readonly Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];

const FONT = 14;
const TITLE_FONT = 18;
const PLOT_HEIGHT = 280;
/** From the left edge to the rotated y label's centre line, and from it to the widest tick label. */
const Y_LABEL_X = 22;
const Y_LABEL_CLEARANCE = 20;
const MARGIN = 20;
const X_AXIS_BAND = 66;
const LEGEND_SWATCH = 26;
const LEGEND_ROW = 22;
/** Sparse series (validation every few thousand iterations) get point markers; dense ones would blur. */
const MARKER_LIMIT = 40;

export interface Axis {
  lo: number;
  hi: number;
  ticks: number[];
  /** Decimals for tick labels. */
  decimals: number;
}

/** A 1-2-5 axis covering [min, max] with about `target` ticks. */
export function niceAxis(min: number, max: number, target = 6): Axis {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return niceAxis(0, 1, target);
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return niceAxis(min - pad, max + pad, target);
  }
  const raw = (max - min) / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  // Round away float drift (0.30000000000000004) so ends and ticks are the numbers the labels show.
  const tidy = (v: number) => Number(v.toPrecision(12));
  // The 1e-9 keeps a range end already on the grid there: 0.3 / 0.1 is 2.9999999999999996, not 3.
  const lo = tidy(Math.floor(min / step + 1e-9) * step);
  const hi = tidy(Math.ceil(max / step - 1e-9) * step);
  const ticks: number[] = [];
  for (let i = 0; lo + i * step <= hi + step * 1e-9; i++) ticks.push(tidy(lo + i * step));
  return { lo, hi, ticks, decimals: Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) };
}

export interface CurvesPanel {
  plot: Rect;
  legend: Rect;
  series: readonly Series[];
  colours: readonly Rgb[];
  yLabel: string;
  y: Axis;
}

export interface CurvesLayout {
  width: number;
  height: number;
  x: Axis;
  panels: CurvesPanel[];
}

function range(series: readonly Series[], coord: 0 | 1): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const s of series) {
    for (const p of s.points) {
      if (!Number.isFinite(p[0]) || !Number.isFinite(p[1])) continue;
      lo = Math.min(lo, p[coord]);
      hi = Math.max(hi, p[coord]);
    }
  }
  return [lo, hi];
}

/** Where each panel's plot area and legend go. */
export function curvesLayout(input: CurvesInput): CurvesLayout {
  const width = input.width ?? 960;
  const groups: { series: readonly Series[]; yLabel: string }[] = [{ series: input.losses, yLabel: input.lossLabel ?? 'loss' }];
  if (input.validation !== undefined) groups.push({ series: input.validation, yLabel: input.validationLabel ?? 'validation mIoU' });
  const all = groups.flatMap((g) => g.series);
  const legendWidth = Math.ceil(Math.max(80, ...all.map((s) => LEGEND_SWATCH + 8 + textWidth(s.name, FONT))));
  const yAxes = groups.map((g) => niceAxis(...range(g.series, 1)));
  const tickLabelWidth = Math.max(...yAxes.flatMap((a) => a.ticks.map((t) => textWidth(t.toFixed(a.decimals), FONT))));
  const left = Math.ceil(Y_LABEL_X + Y_LABEL_CLEARANCE + tickLabelWidth + 8);
  const plotWidth = width - left - MARGIN - legendWidth - MARGIN;
  if (plotWidth < 200) throw new Error(`curves: ${width} px is too narrow for the legend (${legendWidth} px)`);
  let top = MARGIN + (input.title === undefined ? 0 : TITLE_FONT + 14);
  let colour = 0;
  const panels = groups.map((g, i) => {
    const plot = { x: left, y: top, width: plotWidth, height: PLOT_HEIGHT };
    const legend = { x: left + plotWidth + MARGIN, y: top, width: legendWidth, height: g.series.length * LEGEND_ROW };
    const colours = g.series.map(() => SERIES_COLOURS[colour++ % SERIES_COLOURS.length] as Rgb);
    top += PLOT_HEIGHT + X_AXIS_BAND;
    return { plot, legend, series: g.series, colours, yLabel: g.yLabel, y: yAxes[i] as Axis };
  });
  return { width, height: top + MARGIN - 10, x: niceAxis(...range(all, 0), 8), panels };
}

function panelSvg(panel: CurvesPanel, x: Axis, xLabel: string, id: number): string {
  const { plot, y } = panel;
  const px = (v: number) => plot.x + ((v - x.lo) / (x.hi - x.lo)) * plot.width;
  const py = (v: number) => plot.y + plot.height - ((v - y.lo) / (y.hi - y.lo)) * plot.height;
  const out: string[] = [];
  const bottom = plot.y + plot.height;
  for (const t of y.ticks) {
    const ty = py(t).toFixed(1);
    out.push(`<line x1="${plot.x}" y1="${ty}" x2="${plot.x + plot.width}" y2="${ty}" stroke="#e4e4e4"/>`);
    out.push(svgText(plot.x - 8, py(t) + FONT * 0.35, t.toFixed(y.decimals), { size: FONT, anchor: 'end' }));
  }
  for (const t of x.ticks) {
    const tx = px(t).toFixed(1);
    out.push(`<line x1="${tx}" y1="${plot.y}" x2="${tx}" y2="${bottom}" stroke="#e4e4e4"/>`);
    out.push(`<line x1="${tx}" y1="${bottom}" x2="${tx}" y2="${bottom + 5}" stroke="#444"/>`);
    out.push(svgText(px(t), bottom + 8 + FONT, t.toFixed(x.decimals), { size: FONT, anchor: 'middle' }));
  }
  out.push(`<rect x="${plot.x}" y="${plot.y}" width="${plot.width}" height="${plot.height}" fill="none" stroke="#444"/>`);
  out.push(svgText(plot.x + plot.width / 2, bottom + 12 + 2 * FONT, xLabel, { size: FONT, anchor: 'middle' }));
  const midY = plot.y + plot.height / 2;
  out.push(svgText(Y_LABEL_X, midY, panel.yLabel, { size: FONT, anchor: 'middle', rotate: -90 }));
  out.push(`<clipPath id="plot${id}"><rect x="${plot.x}" y="${plot.y}" width="${plot.width}" height="${plot.height}"/></clipPath>`);
  panel.series.forEach((s, i) => {
    const stroke = cssColour(panel.colours[i] as Rgb);
    const finite = s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
    // One polyline per run of finite points: a NaN or infinite loss leaves a gap instead of a false line.
    const runs: string[][] = [[]];
    for (const p of s.points) {
      if (Number.isFinite(p[0]) && Number.isFinite(p[1])) runs.at(-1)?.push(`${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`);
      else if ((runs.at(-1)?.length ?? 0) > 0) runs.push([]);
    }
    const lines = runs
      .filter((r) => r.length > 1)
      .map((r) => `<polyline points="${r.join(' ')}" fill="none" stroke="${stroke}" stroke-width="2.5" stroke-linejoin="round"/>`);
    const markers =
      finite.length <= MARKER_LIMIT
        ? finite.map((p) => `<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3.5" fill="${stroke}"/>`)
        : [];
    out.push(`<g clip-path="url(#plot${id})">${lines.join('')}${markers.join('')}</g>`);
    const ly = panel.legend.y + i * LEGEND_ROW + LEGEND_ROW / 2;
    out.push(
      `<line x1="${panel.legend.x}" y1="${ly}" x2="${panel.legend.x + LEGEND_SWATCH}" y2="${ly}" stroke="${stroke}" stroke-width="3"/>`,
    );
    out.push(svgText(panel.legend.x + LEGEND_SWATCH + 8, ly + FONT * 0.35, s.name, { size: FONT }));
  });
  return out.join('');
}

/** The curves as an SVG document, with its layout. */
export function curvesSvg(input: CurvesInput): { svg: string; layout: CurvesLayout } {
  const layout = curvesLayout(input);
  const body: string[] = [];
  if (input.title !== undefined) {
    body.push(svgText(layout.width / 2, MARGIN + TITLE_FONT, input.title, { size: TITLE_FONT, bold: true, anchor: 'middle' }));
  }
  layout.panels.forEach((p, i) => {
    body.push(panelSvg(p, layout.x, input.xLabel ?? 'iteration', i));
  });
  return { svg: svgDocument(layout.width, layout.height, body.join(''), '#ffffff'), layout };
}

/** Writes the curves as a PNG (atomically); returns the layout. */
export async function writeCurvesPng(path: string, input: CurvesInput): Promise<CurvesLayout> {
  const { svg, layout } = curvesSvg(input);
  await writeRaster(path, sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }));
  return layout;
}
