// Rows of a label map as runs, and connected components over runs. Both the GeoJSON export and the
// measurements work on runs rather than pixels: a run starts or ends only where a pixel differs from its
// left neighbour, so after one cheap pass over the row everything else costs per run, not per pixel.

/**
 * Splits `width` pixels of `row` from `offset` into the runs of each bit in `bits`: out[i] becomes the flat
 * list [start0, end0, start1, end1, ...] (end exclusive, sorted, maximal) of the pixels carrying bits[i].
 */
export function rowRuns(row: Uint8Array, offset: number, width: number, bits: readonly number[], out: number[][]): void {
  let mask = 0;
  for (let i = 0; i < bits.length; i++) {
    mask |= bits[i]!;
    out[i]!.length = 0;
  }
  let previous = 0;
  for (let x = 0; x < width; x++) {
    const value = row[offset + x]! & mask;
    const change = value ^ previous;
    if (change !== 0) {
      for (let i = 0; i < bits.length; i++) if (change & bits[i]!) out[i]!.push(x);
      previous = value;
    }
  }
  for (let i = 0; i < bits.length; i++) if (previous & bits[i]!) out[i]!.push(width);
}

/**
 * Streaming 4-connected component labelling over runs, row after row: a run joins every run of the row above
 * that shares a column with it. Labels are provisional; find() gives a component's current label, and
 * `onMerge(kept, gone)` is told whenever two components become one. Only the previous row is kept, plus a
 * parent and a pixel count per label.
 */
export class RunLabeller {
  #parent = new Int32Array(1024);
  #size = new Float64Array(1024);
  #count = 1; // label 0 is background
  #previous: number[] = [];
  #previousLabels: number[] = [];

  constructor(private readonly onMerge?: (kept: number, gone: number) => void) {}

  /** Labels the runs of the next row (flat start/end pairs); returns one provisional label per run. */
  next(runs: readonly number[]): number[] {
    const above = this.#previous;
    const aboveLabels = this.#previousLabels;
    const labels: number[] = [];
    let j = 0;
    for (let i = 0; i < runs.length; i += 2) {
      const start = runs[i]!;
      const end = runs[i + 1]!;
      while (j < above.length && above[j + 1]! <= start) j += 2;
      let label = 0;
      for (let k = j; k < above.length && above[k]! < end; k += 2) {
        const other = aboveLabels[k >> 1]!;
        label = label === 0 ? this.find(other) : this.#union(label, other);
      }
      if (label === 0) label = this.#newLabel();
      this.#size[label]! += end - start;
      labels.push(label);
    }
    this.#previous = runs.slice();
    this.#previousLabels = labels;
    return labels;
  }

  find(label: number): number {
    const parent = this.#parent;
    let l = label;
    while (parent[l] !== l) {
      parent[l] = parent[parent[l]!]!; // path halving
      l = parent[l]!;
    }
    return l;
  }

  /** Every component so far: its label and its size in pixels. */
  *components(): Generator<{ label: number; pixels: number }> {
    for (let l = 1; l < this.#count; l++) if (this.#parent[l] === l) yield { label: l, pixels: this.#size[l]! };
  }

  #newLabel(): number {
    if (this.#count === this.#parent.length) {
      const parent = new Int32Array(this.#parent.length * 2);
      parent.set(this.#parent);
      const size = new Float64Array(this.#size.length * 2);
      size.set(this.#size);
      this.#parent = parent;
      this.#size = size;
    }
    const l = this.#count++;
    this.#parent[l] = l;
    this.#size[l] = 0;
    return l;
  }

  /** Joins two components (the larger absorbs the smaller); returns the surviving label. */
  #union(a: number, b: number): number {
    let kept = this.find(a);
    let gone = this.find(b);
    if (kept === gone) return kept;
    if (this.#size[kept]! < this.#size[gone]!) [kept, gone] = [gone, kept];
    this.#parent[gone] = kept;
    this.#size[kept]! += this.#size[gone]!;
    this.onMerge?.(kept, gone);
    return kept;
  }
}
