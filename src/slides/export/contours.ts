// Exact pixel-edge contours of one class of a label map, traced row by row in one pass.
//
// Boundaries run along pixel edges, between lattice points (x, y) = pixel corners, so filling the polygons
// (a pixel is inside when its centre is) gives back the mask exactly. Regions are 4-connected: pixels that
// touch only at a corner belong to different regions. The tracer walks so that the region lies on the
// right of travel in image coordinates (y down); outer rings then have a positive shoelace sum
// (counter-clockwise in the numbers, RFC 7946's right-hand rule) and holes a negative one. At a corner where
// two region pixels touch diagonally the walk stays with its own pixel, which keeps 4-connectivity; a ring
// that comes back through such a corner is split there, so every ring is simple and a hole may touch its
// outer ring or another hole at one point, as the OGC simple-features rules (and QuPath's JTS) allow.
//
// Streaming: line y (between rows y-1 and y) is handled from the runs of those two rows alone. Open chains
// of edges are joined where they meet; a ring is complete when its chain closes on itself. Holes close before
// the outer ring of their region (they lie above its last row), so a region is emitted, holes included, the
// moment its outer ring closes. Memory is the open chains and one vertical edge slot per column.
import { RunLabeller } from './row_runs.js';

/** A traced region: rings[0] is the outer ring, the rest its holes; each ring a flat [x0, y0, x1, y1, ...] of
 *  corner points in pixel coordinates, not repeated at the end. */
export interface TracedRegion {
  rings: number[][];
  /** Pixels in the region (the outer ring's area less its holes'). */
  pixels: number;
}

/** A run of edges not yet closed: its points in order are reverse-pairs(front) then back. */
interface Chain {
  front: number[];
  back: number[];
  /** Provisional component label of the region pixels it borders. */
  label: number;
  merged: Chain | null;
}

function resolve(chain: Chain): Chain {
  let c = chain;
  while (c.merged !== null) c = c.merged;
  let d = chain;
  while (d.merged !== null && d.merged !== c) {
    const next = d.merged;
    d.merged = c;
    d = next;
  }
  return c;
}

function points(chain: Chain): number[] {
  const out: number[] = [];
  const { front, back } = chain;
  for (let i = front.length - 2; i >= 0; i -= 2) out.push(front[i]!, front[i + 1]!);
  for (let i = 0; i < back.length; i++) out.push(back[i]!);
  return out;
}

/** Twice the signed area of a ring (shoelace sum): positive for an outer ring, negative for a hole. */
export function ringArea2(ring: readonly number[]): number {
  let sum = 0;
  const n = ring.length;
  for (let i = 0; i < n; i += 2) {
    const j = (i + 2) % n;
    sum += ring[i]! * ring[j + 1]! - ring[j]! * ring[i + 1]!;
  }
  return sum;
}

/** Cuts a closed walk at every point it passes twice, giving simple rings. */
function splitAtRepeats(ring: number[], width: number): number[][] {
  const pieces: number[][] = [];
  const stack: number[] = [];
  const seen = new Map<number, number>();
  for (let i = 0; i < ring.length; i += 2) {
    const key = ring[i + 1]! * (width + 1) + ring[i]!;
    const at = seen.get(key);
    if (at !== undefined) {
      const piece = stack.splice(at);
      for (let k = 0; k < piece.length; k += 2) seen.delete(piece[k + 1]! * (width + 1) + piece[k]!);
      pieces.push(piece);
    }
    seen.set(key, stack.length);
    stack.push(ring[i]!, ring[i + 1]!);
  }
  pieces.push(stack);
  return pieces;
}

export class ContourTracer {
  /** The open chain owning the vertical edge that crosses the current line at each column. */
  readonly #vertical: (Chain | null)[];
  /** Holes already closed, by the component label of their region. */
  readonly #holes = new Map<number, number[][]>();
  readonly #labeller: RunLabeller;
  #above: readonly number[] = [];
  #y = 0;

  constructor(
    readonly width: number,
    private readonly onRegion: (region: TracedRegion) => void,
  ) {
    this.#vertical = new Array<Chain | null>(width + 1).fill(null);
    this.#labeller = new RunLabeller((kept, gone) => {
      const moved = this.#holes.get(gone);
      if (moved === undefined) return;
      this.#holes.delete(gone);
      const into = this.#holes.get(kept);
      if (into === undefined) this.#holes.set(kept, moved);
      else into.push(...moved);
    });
  }

  /** Adds the next row, as flat start/end runs of the class. */
  addRow(runs: readonly number[]): void {
    const labels = this.#labeller.next(runs);
    this.#line(this.#above, runs, labels);
    this.#above = runs.slice();
    this.#y++;
  }

  /** Closes the bottom edge; throws if anything was left open (a bug, never bad input). */
  finish(): void {
    this.#line(this.#above, [], []);
    if (this.#holes.size > 0 || this.#vertical.some((c) => c !== null))
      throw new Error(`contour tracing left ${this.#holes.size} hole set(s) without an outer ring`);
  }

  /**
   * Line y: the corners where row y-1 (`above`) or row y (`below`) starts or ends a run. TL, TR, BL, BR are
   * the four pixels around lattice point (x, y); edges have the region on their right.
   */
  #line(above: readonly number[], below: readonly number[], belowLabels: readonly number[]): void {
    const y = this.#y;
    const vertical = this.#vertical;
    let carry: Chain | null = null; // the chain owning the horizontal edge arriving at the next corner
    let ia = 0;
    let ib = 0;
    while (ia < above.length || ib < below.length) {
      const x = Math.min(above[ia] ?? Number.POSITIVE_INFINITY, below[ib] ?? Number.POSITIVE_INFINITY);
      const tl = ia & 1;
      if (above[ia] === x) ia++;
      const tr = ia & 1;
      const blBefore = ib;
      const bl = ib & 1;
      if (below[ib] === x) ib++;
      const br = ib & 1;
      const code = (tl << 3) | (tr << 2) | (bl << 1) | br;
      const v = [x, y] as const;
      switch (code) {
        case 0b0001: {
          // S in, E out: a new chain round the top-left corner of pixel BR.
          const c = this.#newChain(v, belowLabels[(ib - 1) >> 1]!);
          vertical[x] = c;
          carry = c;
          break;
        }
        case 0b1110: {
          // E in, S out: a new chain round the inside corner next to pixel BL.
          const c = this.#newChain(v, belowLabels[(blBefore - 1) >> 1]!);
          vertical[x] = c;
          carry = c;
          break;
        }
        case 0b0010: // W in, S out
          vertical[x] = this.#extend(carry!, v);
          carry = null;
          break;
        case 0b1011: // N in, E out
          carry = this.#extend(vertical[x]!, v);
          vertical[x] = null;
          break;
        case 0b0100: // E in, N out
          carry = this.#prepend(vertical[x]!, v);
          vertical[x] = null;
          break;
        case 0b1101: // S in, W out
          vertical[x] = this.#prepend(carry!, v);
          carry = null;
          break;
        case 0b0111: // W in, N out
          this.#join(carry!, vertical[x]!, v);
          vertical[x] = null;
          carry = null;
          break;
        case 0b1000: // N in, W out
          this.#join(vertical[x]!, carry!, v);
          vertical[x] = null;
          carry = null;
          break;
        case 0b1001: {
          // Diagonal TL + BR: N in -> W out round TL, S in -> E out round BR.
          this.#join(vertical[x]!, carry!, v);
          const c = this.#newChain(v, belowLabels[(ib - 1) >> 1]!);
          vertical[x] = c;
          carry = c;
          break;
        }
        case 0b0110: {
          // Diagonal TR + BL: W in -> S out round BL, E in -> N out round TR.
          const down = this.#extend(carry!, v);
          carry = this.#prepend(vertical[x]!, v);
          vertical[x] = down;
          break;
        }
        // 0b0101 and 0b1010 are vertical edges passing straight through; nothing else has a run end here.
      }
    }
  }

  #newChain(v: readonly [number, number], label: number): Chain {
    return { front: [], back: [v[0], v[1]], label, merged: null };
  }

  /** Adds corner v after the chain's last point. */
  #extend(chain: Chain, v: readonly [number, number]): Chain {
    const c = resolve(chain);
    c.back.push(v[0], v[1]);
    return c;
  }

  /** Adds corner v before the chain's first point. */
  #prepend(chain: Chain, v: readonly [number, number]): Chain {
    const c = resolve(chain);
    c.front.push(v[0], v[1]);
    return c;
  }

  /** The walk arrives at v along `into` and leaves along `outOf`: join them, or close a ring. */
  #join(into: Chain, outOf: Chain, v: readonly [number, number]): void {
    const a = this.#extend(into, v);
    const b = resolve(outOf);
    if (a === b) {
      this.#closeRing(points(a), a.label);
      return;
    }
    if (a.front.length + a.back.length >= b.front.length + b.back.length) {
      for (let i = b.front.length - 2; i >= 0; i -= 2) a.back.push(b.front[i]!, b.front[i + 1]!);
      for (let i = 0; i < b.back.length; i++) a.back.push(b.back[i]!);
      b.merged = a;
    } else {
      for (let i = a.back.length - 2; i >= 0; i -= 2) b.front.push(a.back[i]!, a.back[i + 1]!);
      for (let i = 0; i < a.front.length; i++) b.front.push(a.front[i]!);
      a.merged = b;
    }
  }

  #closeRing(ring: number[], label: number): void {
    const component = this.#labeller.find(label);
    let outer: number[] | undefined;
    for (const piece of splitAtRepeats(ring, this.width)) {
      if (ringArea2(piece) > 0) {
        if (outer !== undefined) throw new Error('contour tracing: one walk gave two outer rings');
        outer = piece;
      } else {
        const holes = this.#holes.get(component);
        if (holes === undefined) this.#holes.set(component, [piece]);
        else holes.push(piece);
      }
    }
    if (outer === undefined) return;
    const holes = this.#holes.get(component) ?? [];
    this.#holes.delete(component);
    const pixels = (ringArea2(outer) + holes.reduce((sum, h) => sum + ringArea2(h), 0)) / 2;
    this.onRegion({ rings: [outer, ...holes], pixels });
  }
}
