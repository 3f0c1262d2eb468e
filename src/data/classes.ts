// The placenta class table (spec §7.2): seven raw classes read from two colour-coded annotation
// layers, and the four final classes the networks predict. Also the label-image contract every slide label
// map shares (the synthetic ground truth, the segmenter's output, measurements, GeoJSON and DeepZoom
// exports): bit flags, one bit per final class, and the tissue bit.

/** The two annotation layers: ann/<name>_seml0.png (level 0) and ann/<name>_seml1.png (level 1). */
export type Layer = 'seml0' | 'seml1';
export const LAYERS: readonly Layer[] = ['seml0', 'seml1'];

export interface RawClass {
  name: string;
  /** The layer whose colour marks the class; null for 'other', which is computed (no raw class set). */
  layer: Layer | null;
}

/** The reference's SEM_CLS_LIST, in channel order. A pixel can hold one level-0 and one level-1 class. */
export const RAW_CLASSES: readonly RawClass[] = [
  { name: 'villi', layer: 'seml0' },
  { name: 'villiu', layer: 'seml0' },
  { name: 'stem', layer: 'seml0' },
  { name: 'thrombus', layer: 'seml0' },
  { name: 'bloodvessel', layer: 'seml1' },
  { name: 'cellgroup', layer: 'seml1' },
  { name: 'other', layer: null },
];

/** Index of the computed 'other' channel in the raw mask. */
export const OTHER_CHANNEL = 6;

export interface FinalClass {
  /** The reference's code name (SEM_CLS_FIN_LIST). */
  code: string;
  /** The name used in the paper and its figures. */
  display: string;
  /** Raw classes merged into this channel: clip(sum, 0, 1). */
  from: readonly string[];
  /** Overlay colour (RGB) used by the reference's visualizer. */
  colour: readonly [number, number, number];
}

/** The four output channels, in order. */
export const FINAL_CLASSES: readonly FinalClass[] = [
  { code: 'villit', display: 'Villus', from: ['villi', 'villiu', 'stem'], colour: [128, 0, 0] },
  { code: 'thrombus', display: 'Fibrin Deposit', from: ['thrombus'], colour: [0, 128, 0] },
  { code: 'bloodvessel', display: 'Capillary', from: ['bloodvessel'], colour: [0, 224, 224] },
  { code: 'cellgroup', display: 'Trophoblast Aggregation', from: ['cellgroup'], colour: [0, 0, 128] },
];

export const NUM_RAW = RAW_CLASSES.length;
export const NUM_FINAL = FINAL_CLASSES.length;

/** Raw channel indices feeding each final channel. */
export const FINAL_SOURCES: readonly (readonly number[])[] = FINAL_CLASSES.map((f) =>
  f.from.map((name) => RAW_CLASSES.findIndex((r) => r.name === name)),
);

// ---- the label image: bit flags ----------------------------------------------------------------------------

/** The bit of final class c in a label image: classes may overlap (a capillary inside a villus is 1 + 4). */
export function classBit(c: number): number {
  return 1 << c;
}

/** Bit 4 of a label image: inside tissue (a synthetic section outline, or the segmenter's tissue mask); 0 is glass. */
export const TISSUE_BIT = 1 << 4;

const bitOf = (code: string): number => classBit(FINAL_CLASSES.findIndex((c) => c.code === code));

/** The label bits by meaning: 1 villus, 2 fibrin deposit, 4 capillary, 8 trophoblast aggregation, 16 tissue. */
export const LABEL_BITS = {
  villus: bitOf('villit'),
  fibrin: bitOf('thrombus'),
  capillary: bitOf('bloodvessel'),
  aggregate: bitOf('cellgroup'),
  tissue: TISSUE_BIT,
} as const;

/** Every class bit together. */
export const CLASS_BITS = FINAL_CLASSES.reduce((bits, _, c) => bits | classBit(c), 0);

/** One row of a label table (`<stem>_labels.json`): a bit of the label image (its index and value) and what it means. */
export interface LabelClass {
  bit: number;
  value: number;
  code: string;
  name: string;
  colour: readonly [number, number, number];
}

/** The label image's bits: the final classes in order, then tissue. */
export const LABEL_CLASSES: readonly LabelClass[] = [
  ...FINAL_CLASSES.map((c, bit) => ({ bit, value: classBit(bit), code: c.code, name: c.display, colour: c.colour })),
  { bit: 4, value: TISSUE_BIT, code: 'tissue', name: 'Tissue section', colour: [160, 160, 160] },
];

/** Class names and colours as every export writes them: `bit` is the class's value in the label image. */
export const CLASS_STYLES = FINAL_CLASSES.map((c, index) => ({ index, bit: classBit(index), name: c.display, colour: c.colour }));
