// The placenta class table (spec §7.2): seven raw classes read from two colour-coded annotation
// layers, and the four final classes the networks predict.

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
