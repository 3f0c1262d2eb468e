// Feeds rows of one-channel planes, in whatever row counts they are finished in, to their pyramidal TIFF
// writers in the writers' own bands (one row of TIFF tiles each), holding at most one band per plane.
import type { PyramidalTiffWriter } from '../export/tiff_writer.js';

export class PlaneBands {
  readonly #writers: readonly PyramidalTiffWriter[];
  readonly #bands: Uint8Array[];
  readonly #width: number;
  #filled = 0;

  constructor(writers: readonly PyramidalTiffWriter[]) {
    const first = writers[0];
    if (first === undefined) throw new Error('PlaneBands: no writers');
    for (const w of writers) {
      if (w.width !== first.width || w.height !== first.height || w.tileSize !== first.tileSize || w.channels !== 1) {
        throw new Error(`PlaneBands: ${w.path} does not match ${first.path} (one channel, same size and tiles)`);
      }
    }
    this.#writers = writers;
    this.#width = first.width;
    this.#bands = writers.map(() => new Uint8Array(first.tileSize * first.width));
  }

  /** Appends `rows` rows of every plane (`planes[i]` for writer i, rows x width bytes, may be longer). */
  async push(planes: readonly Uint8Array[], rows: number): Promise<void> {
    const w = this.#width;
    for (let done = 0; done < rows; ) {
      const want = this.#writers[0]!.nextBandRows;
      if (want <= 0) throw new Error(`${this.#writers[0]!.path}: more rows than the image holds`);
      const take = Math.min(rows - done, want - this.#filled);
      this.#bands.forEach((band, i) => {
        band.set(planes[i]!.subarray(done * w, (done + take) * w), this.#filled * w);
      });
      this.#filled += take;
      done += take;
      if (this.#filled === want) {
        await Promise.all(this.#writers.map((writer, i) => writer.writeBand(this.#bands[i]!.subarray(0, want * w))));
        this.#filled = 0;
      }
    }
  }
}
