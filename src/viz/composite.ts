// The side-by-side figure: original | prediction (| ground truth), each panel titled, over a legend naming
// the tissues. Panels are pasted pixel for pixel (no resampling), so the prediction panel is exactly the
// reference's overlay; text and swatches are one SVG layer rasterised by sharp and composited on top.
import sharp from 'sharp';
import type { RgbImage } from '../data/images.js';
import { Tensor } from '../torch/tensor.js';
import { type LegendLayout, layoutLegend, legendSvg, TISSUE_LEGEND } from './legend.js';
import { blendOverlay, type ClassMasks, masksFromMaps, toRgbImage } from './overlay.js';
import { opaqueRgb, rgbPipeline, writeRaster } from './raster.js';
import { type Rect, svgDocument, svgText, textWidth } from './svg.js';

const MARGIN = 16;
const PANEL_GAP = 16;
const HEADING_SIZE = 20;
const PANEL_TITLE_SIZE = 18;
const LEGEND_SIZE = 16;

export interface CompositeLayout {
  width: number;
  height: number;
  panels: Rect[];
  legend: Rect;
  legendLayout: LegendLayout;
}

/** Where everything goes for n panels of imageWidth×imageHeight; a heading line is reserved when given. */
export function compositeLayout(imageWidth: number, imageHeight: number, titles: readonly string[], heading?: string): CompositeLayout {
  const n = titles.length;
  // Tiny images get columns wide enough for their titles, so no title runs into its neighbour.
  const column = Math.max(imageWidth, ...titles.map((t) => Math.ceil(textWidth(t, PANEL_TITLE_SIZE, true))));
  const panelsWidth = n * column + (n - 1) * PANEL_GAP;
  const legendLayout = layoutLegend(TISSUE_LEGEND, panelsWidth, LEGEND_SIZE);
  const headingWidth = heading === undefined ? 0 : Math.ceil(textWidth(heading, HEADING_SIZE, true));
  const inner = Math.max(panelsWidth, legendLayout.width, headingWidth);
  const width = inner + 2 * MARGIN;
  const headingBand = heading === undefined ? 0 : Math.round(HEADING_SIZE * 1.8);
  const titleBand = Math.round(PANEL_TITLE_SIZE * 1.7);
  const panelTop = MARGIN + headingBand + titleBand;
  const panelsLeft = MARGIN + Math.floor((inner - panelsWidth) / 2);
  const panels = titles.map((_, i) => ({
    x: panelsLeft + i * (column + PANEL_GAP) + Math.floor((column - imageWidth) / 2),
    y: panelTop,
    width: imageWidth,
    height: imageHeight,
  }));
  const legendTop = panelTop + imageHeight + MARGIN;
  const legend = {
    x: MARGIN + Math.floor((inner - legendLayout.width) / 2),
    y: legendTop,
    width: legendLayout.width,
    height: legendLayout.height,
  };
  return { width, height: legendTop + legendLayout.height + MARGIN, panels, legend, legendLayout };
}

export interface CompositeInput {
  /** RGB pixels, or a tensor [3,H,W] in [0,1]. */
  image: RgbImage | Tensor;
  /** Predicted maps [4,h,w] (probabilities, or logits with `logits`), or masks already at the image size. */
  prediction: Tensor | ClassMasks;
  logits?: boolean;
  /** The (soft) ground truth [4,h,w], thresholded like the prediction; its panel is drawn only when given. */
  groundTruth?: Tensor | ClassMasks;
  /** A line above the panels, e.g. the sample name. */
  heading?: string;
}

function asMasks(maps: Tensor | ClassMasks, image: RgbImage, logits: boolean): ClassMasks {
  return maps instanceof Tensor ? masksFromMaps(maps, image.width, image.height, { logits }) : maps;
}

/** The composite's pixels, with its layout. */
export async function renderComposite(input: CompositeInput): Promise<{ image: RgbImage; layout: CompositeLayout }> {
  const image = toRgbImage(input.image);
  const panels: { title: string; pixels: RgbImage }[] = [
    { title: 'Original', pixels: image },
    { title: 'Prediction', pixels: blendOverlay(image, asMasks(input.prediction, image, input.logits ?? false)) },
  ];
  if (input.groundTruth !== undefined) {
    panels.push({ title: 'Ground truth', pixels: blendOverlay(image, asMasks(input.groundTruth, image, false)) });
  }
  const layout = compositeLayout(
    image.width,
    image.height,
    panels.map((p) => p.title),
    input.heading,
  );
  const text: string[] = [];
  if (input.heading !== undefined) {
    text.push(svgText(MARGIN, MARGIN + HEADING_SIZE, input.heading, { size: HEADING_SIZE, bold: true }));
  }
  layout.panels.forEach((rect, i) => {
    const baseline = rect.y - Math.round(PANEL_TITLE_SIZE * 0.55);
    text.push(svgText(rect.x + rect.width / 2, baseline, panels[i]?.title ?? '', { size: PANEL_TITLE_SIZE, bold: true, anchor: 'middle' }));
  });
  text.push(legendSvg(layout.legendLayout, layout.legend.x, layout.legend.y));
  const canvas = sharp({ create: { width: layout.width, height: layout.height, channels: 3, background: '#ffffff' } }).composite([
    ...panels.map((p, i) => ({
      input: Buffer.from(p.pixels.data.buffer, p.pixels.data.byteOffset, p.pixels.data.byteLength),
      raw: { width: p.pixels.width, height: p.pixels.height, channels: 3 as const },
      left: layout.panels[i]?.x ?? 0,
      top: layout.panels[i]?.y ?? 0,
    })),
    { input: Buffer.from(svgDocument(layout.width, layout.height, text.join(''))), left: 0, top: 0 },
  ]);
  return { image: await opaqueRgb(canvas), layout };
}

/** Writes the composite as PNG or JPEG (by extension) atomically; returns its layout. */
export async function writeComposite(path: string, input: CompositeInput, jpegQuality = 92): Promise<CompositeLayout> {
  const { image, layout } = await renderComposite(input);
  await writeRaster(path, rgbPipeline(image), jpegQuality);
  return layout;
}
