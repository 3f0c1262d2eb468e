// Small SVG builders shared by the legend, the composite and the plots. sharp rasterises the SVG with
// librsvg, which finds fonts through fontconfig; DejaVu Sans is named first because it is the font most
// Linux systems ship, and the layout's width estimates below are measured on it.
import type { Rgb } from './overlay.js';

export const FONT_FAMILY = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif";

/** A rectangle in pixels, top left at (x, y). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Escapes text for XML and HTML, in element content and in quoted attributes. */
export function escapeMarkup(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

export function cssColour(colour: Rgb): string {
  return `rgb(${colour[0]},${colour[1]},${colour[2]})`;
}

// Advance widths of DejaVu Sans in em, by character class, rounded up so estimates err wide: text laid
// out with them is never clipped or overlapped, at worst followed by a little extra space.
const NARROW = new Set("il.,:;'|!()[]{}/\\ ");
const SEMI_NARROW = new Set('fjrt-I');
const WIDE = new Set('mwMW%@');

/** Width in pixels of text set in DejaVu Sans at fontSize (an upper-side estimate, no font needed). */
export function textWidth(text: string, fontSize: number, bold = false): number {
  let em = 0;
  for (const ch of text) {
    if (NARROW.has(ch)) em += 0.34;
    else if (SEMI_NARROW.has(ch)) em += 0.46;
    else if (WIDE.has(ch)) em += 1.0;
    else if (ch >= 'A' && ch <= 'Z') em += 0.74;
    else em += 0.64;
  }
  return em * fontSize * (bold ? 1.12 : 1);
}

export interface TextStyle {
  size: number;
  anchor?: 'start' | 'middle' | 'end';
  bold?: boolean;
  fill?: string;
  /** Degrees, about (x, y). */
  rotate?: number;
}

/** A <text> element whose baseline starts at (x, y). */
export function svgText(x: number, y: number, text: string, style: TextStyle): string {
  const attrs = [
    `x="${x}"`,
    `y="${y}"`,
    `font-family="${FONT_FAMILY}"`,
    `font-size="${style.size}"`,
    `text-anchor="${style.anchor ?? 'start'}"`,
    `fill="${style.fill ?? '#222'}"`,
  ];
  if (style.bold) attrs.push('font-weight="bold"');
  if (style.rotate !== undefined) attrs.push(`transform="rotate(${style.rotate} ${x} ${y})"`);
  return `<text ${attrs.join(' ')}>${escapeMarkup(text)}</text>`;
}

/** A complete SVG document of the given size around body. */
export function svgDocument(width: number, height: number, body: string, background?: string): string {
  const bg = background === undefined ? '' : `<rect width="${width}" height="${height}" fill="${background}"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${bg}${body}</svg>`;
}
