// The outputs of one segmentation run. The stitcher's final probabilities become row planes: the label
// plane (bit c where class c's probability > threshold inside tissue, plus the tissue bit) and, when asked for, one
// uint8 probability plane per class. Finished rows go to their pyramidal TIFFs band by band and to the
// run's resume spool; the TIFFs appear under their names only when every row is written.
import { TISSUE_BIT } from '../../data/classes.js';
import { PyramidalTiffWriter } from '../export/tiff_writer.js';
import type { PartialRun } from './partial_run.js';
import { PlaneBands } from './plane_bands.js';
import type { FinalBlockSink } from './tiling.js';

/** Tissue rows and what to do outside them. */
export interface TissueRows {
  /**
   * Tissue (1) or glass (0) of rows [from, to), (to - from) x width bytes, given the rows' class bits (the
   * network's answer weighs in beyond the mask's edge: tissue_edges.ts).
   */
  rows: (from: number, to: number, classes: Uint8Array) => Uint8Array;
  /** Clear class bits outside tissue. */
  clip: boolean;
}

export interface LabelOutputOptions {
  label: string;
  /** Class code -> probability TIFF path, in channel order; none when not asked for. */
  probabilities: Record<string, string> | undefined;
  width: number;
  height: number;
  /** Most rows one tile row finishes (the tile size). */
  maxRows: number;
  tiffTileSize: number;
  mpp: number;
  description: string;
  classes: number;
  threshold: number;
  /** undefined: every pixel is tissue. */
  tissue: TissueRows | undefined;
}

export class LabelOutputs {
  readonly #o: LabelOutputOptions;
  readonly #writers: PyramidalTiffWriter[];
  readonly #bands: PlaneBands;
  /** Finished rows waiting to be written, relative to the first of them: label plane, then probability planes. */
  readonly #planes: Uint8Array[];
  /** Fills the row planes from the stitcher's final blocks; `y` is the first row of the current tile row. */
  readonly sink: FinalBlockSink;

  private constructor(o: LabelOutputOptions, writers: PyramidalTiffWriter[]) {
    this.#o = o;
    this.#writers = writers;
    this.#bands = new PlaneBands(writers);
    this.#planes = writers.map(() => new Uint8Array(o.maxRows * o.width));
    const [label, ...probability] = this.#planes as [Uint8Array, ...Uint8Array[]];
    const { width: W, classes: C, threshold } = o;
    this.sink = (x, _y, cols, rows, p) => {
      const n = rows * cols;
      for (let r = 0; r < rows; r++) {
        const out = r * W + x;
        for (let i = 0; i < cols; i++) {
          let bits = 0;
          for (let c = 0; c < C; c++) {
            const v = p[c * n + r * cols + i]!;
            if (v > threshold) bits |= 1 << c;
            if (probability.length > 0) probability[c]![out + i] = Math.round(v * 255);
          }
          label[out + i] = bits;
        }
      }
    };
  }

  static async create(o: LabelOutputOptions): Promise<LabelOutputs> {
    // Padded to a full pyramid (tiff_writer.ts), so a viewer has every level of a grid with an odd side.
    const base = { width: o.width, height: o.height, channels: 1 as const, tileSize: o.tiffTileSize, mpp: o.mpp, fullPyramid: true };
    const writers: PyramidalTiffWriter[] = [];
    try {
      writers.push(await PyramidalTiffWriter.create(o.label, { ...base, downsample: 'mode', description: o.description }));
      for (const path of Object.values(o.probabilities ?? {}))
        writers.push(await PyramidalTiffWriter.create(path, { ...base, downsample: 'mean' }));
    } catch (err) {
      await Promise.all(writers.map((w) => w.abort()));
      throw err;
    }
    return new LabelOutputs(o, writers);
  }

  get planeCount(): number {
    return this.#planes.length;
  }

  /** Rows [from, to) are final: marks their tissue (clearing class bits outside it), writes them, and spools them unless they are the last. */
  async finishRows(from: number, to: number, spool: PartialRun | undefined): Promise<void> {
    this.#markTissue(from, to);
    const n = to - from;
    await this.#bands.push(this.#planes, n);
    if (spool !== undefined)
      await spool.appendRows(
        this.#planes.map((p) => p.subarray(0, n * this.#o.width)),
        n,
      );
  }

  /** Writes the rows a resumed run's spool holds. */
  async replay(spool: PartialRun): Promise<void> {
    for await (const chunk of spool.replayRows(this.#planes.length, this.#o.width)) await this.#bands.push(chunk.planes, chunk.rows);
  }

  /** Finishes every TIFF (they appear under their names now). */
  async close(): Promise<void> {
    for (const w of this.#writers) await w.close();
  }

  /** Drops every TIFF still being written. */
  async abort(): Promise<void> {
    await Promise.all(this.#writers.map((w) => w.abort()));
  }

  #markTissue(from: number, to: number): void {
    const n = (to - from) * this.#o.width;
    const label = this.#planes[0]!;
    const tissue = this.#o.tissue;
    if (tissue === undefined) {
      for (let i = 0; i < n; i++) label[i]! |= TISSUE_BIT;
      return;
    }
    const bits = tissue.rows(from, to, label);
    // Tissue classes exist only in tissue: a tile that touches tissue also covers glass, where the
    // network's answer means nothing (and would count towards areas and fractions), unless asked to keep it.
    const outside = tissue.clip ? 0 : 0xff;
    for (let i = 0; i < n; i++) label[i] = bits[i] ? label[i]! | TISSUE_BIT : label[i]! & outside;
  }
}
