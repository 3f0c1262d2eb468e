// The tissue legend: a colour swatch and a name per class, flowed left to right and wrapped to a width.
import { FINAL_CLASSES } from '../data/classes.js';
import type { Rgb } from './overlay.js';
import { cssColour, svgText, textWidth } from './svg.js';

export interface LegendEntry {
  name: string;
  colour: Rgb;
}

/** The four tissues, named as in the paper, with the overlay colours. */
export const TISSUE_LEGEND: readonly LegendEntry[] = FINAL_CLASSES.map((c) => ({ name: c.display, colour: c.colour }));

/** A swatch square placed in legend coordinates (origin at the legend's top left). */
export interface PlacedEntry extends LegendEntry {
  x: number;
  y: number;
  swatch: number;
}

export interface LegendLayout {
  width: number;
  height: number;
  fontSize: number;
  entries: PlacedEntry[];
}

/** Places the entries in rows no wider than maxWidth (a single entry wider than that gets a row of its own). */
export function layoutLegend(entries: readonly LegendEntry[], maxWidth: number, fontSize = 16): LegendLayout {
  const swatch = Math.round(fontSize * 1.1);
  const textGap = Math.round(fontSize * 0.45);
  const entryGap = Math.round(fontSize * 1.5);
  const rowHeight = Math.round(fontSize * 1.7);
  const placed: PlacedEntry[] = [];
  let x = 0;
  let row = 0;
  let width = 0;
  for (const entry of entries) {
    const w = swatch + textGap + textWidth(entry.name, fontSize);
    if (x > 0 && x + w > maxWidth) {
      row++;
      x = 0;
    }
    placed.push({ ...entry, x, y: row * rowHeight + Math.round((rowHeight - swatch) / 2), swatch });
    width = Math.max(width, x + w);
    x += w + entryGap;
  }
  return { width: Math.ceil(width), height: (row + 1) * rowHeight, fontSize, entries: placed };
}

/** SVG elements drawing the legend with its top left at (left, top). */
export function legendSvg(layout: LegendLayout, left: number, top: number): string {
  const { fontSize } = layout;
  return layout.entries
    .map((e) => {
      const x = left + e.x;
      const y = top + e.y;
      const square = `<rect x="${x}" y="${y}" width="${e.swatch}" height="${e.swatch}" fill="${cssColour(e.colour)}" stroke="#444" stroke-width="1"/>`;
      // Baseline placed so the text's x-height sits centred on the swatch.
      const baseline = y + e.swatch / 2 + fontSize * 0.36;
      return square + svgText(x + e.swatch + Math.round(fontSize * 0.45), baseline, e.name, { size: fontSize });
    })
    .join('');
}
