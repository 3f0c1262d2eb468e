// The class table of the synthetic PMFT datasets (spec §7.2): which raw class lives in which label layer and the
// colour that encodes it there. The reference release has no meta_info.json, so these colours are ours; they go
// into meta_info.json as cls2clr, which is what readers must use.

export type RawClassName = 'villi' | 'villiu' | 'stem' | 'thrombus' | 'bloodvessel' | 'cellgroup';

export interface ClassColour {
  name: RawClassName;
  /** 0: seml0 (tissue compartments), 1: seml1 (structures drawn over them). */
  layer: 0 | 1;
  rgb: readonly [number, number, number];
  /** What the synthetic generator draws for it. */
  meaning: string;
}

/** Raw classes in the reference's SEM_CLS_LIST order; a pixel's code in a layer map is index + 1 (0 = other). */
export const CLASS_TABLE: readonly ClassColour[] = [
  { name: 'villi', layer: 0, rgb: [255, 0, 0], meaning: 'terminal and intermediate villus' },
  { name: 'villiu', layer: 0, rgb: [255, 128, 0], meaning: 'pale oedematous (immature-looking) villus' },
  { name: 'stem', layer: 0, rgb: [128, 0, 64], meaning: 'large stem villus with dense fibrous stroma' },
  { name: 'thrombus', layer: 0, rgb: [0, 255, 0], meaning: 'fibrin deposit' },
  { name: 'bloodvessel', layer: 1, rgb: [0, 224, 224], meaning: 'capillary (fetal vessel inside a villus)' },
  { name: 'cellgroup', layer: 1, rgb: [0, 0, 255], meaning: 'trophoblast aggregation (syncytial knot)' },
];

export function classCode(name: RawClassName): number {
  return CLASS_TABLE.findIndex((c) => c.name === name) + 1;
}

/** meta_info.json's cls2clr: class name -> R*65536 + G*256 + B. */
export function cls2clr(): Record<RawClassName, number> {
  const out = {} as Record<RawClassName, number>;
  for (const c of CLASS_TABLE) out[c.name] = c.rgb[0] * 65536 + c.rgb[1] * 256 + c.rgb[2];
  return out;
}

/** A colour-coded label layer (HWC RGB, black = other) from a map of class codes. */
export function encodeLayer(codes: Uint8Array): Uint8Array {
  const out = new Uint8Array(3 * codes.length);
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i]!;
    if (code === 0) continue;
    const rgb = CLASS_TABLE[code - 1]!.rgb;
    out[3 * i] = rgb[0];
    out[3 * i + 1] = rgb[1];
    out[3 * i + 2] = rgb[2];
  }
  return out;
}
