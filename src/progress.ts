// A live progress line for long jobs: `<label> 120/500 (24%) <fields> ETA 3m05s`. On a terminal it is
// rewritten in place; otherwise (a log file, a CI job) a full line is printed every `every` units,
// so the output stays readable.

/** 75 -> "1m15s", 3725 -> "1h02m", 9 -> "9s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

export interface ProgressOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Units between printed lines when not on a terminal (default: a twentieth of the total). */
  every?: number;
  /** Units already done when the job (re)starts; the ETA uses the rate since then. */
  start?: number;
}

export class Progress {
  readonly #stream: NodeJS.WritableStream & { isTTY?: boolean };
  readonly #every: number;
  readonly #start: number;
  readonly #t0 = performance.now();
  #live = false;

  constructor(
    readonly label: string,
    readonly total: number,
    o: ProgressOptions = {},
  ) {
    this.#stream = o.stream ?? process.stderr;
    this.#every = Math.max(1, o.every ?? Math.ceil(total / 20));
    this.#start = o.start ?? 0;
  }

  /** Seconds left at the rate since the start, or NaN before the first unit. */
  eta(done: number): number {
    const units = done - this.#start;
    return units > 0 ? (((performance.now() - this.#t0) / 1000) * (this.total - done)) / units : Number.NaN;
  }

  update(done: number, fields: string): void {
    const pct = this.total > 0 ? Math.floor((100 * done) / this.total) : 100;
    const tail =
      done >= this.total ? `done in ${formatDuration((performance.now() - this.#t0) / 1000)}` : `ETA ${formatDuration(this.eta(done))}`;
    const line = [`${this.label} ${done}/${this.total} (${pct}%)`, fields, tail].filter((s) => s !== '').join(' ');
    if (this.#stream.isTTY) {
      this.#stream.write(`\r${line}\x1b[K`);
      this.#live = true;
    } else if (done % this.#every === 0 || done >= this.total) {
      this.#stream.write(`${line}\n`);
    }
  }

  /** A line of its own (e.g. a validation result), printed below the live line. */
  note(text: string): void {
    this.#breakLine();
    this.#stream.write(`${text}\n`);
  }

  /** Ends the live line. */
  end(): void {
    this.#breakLine();
  }

  #breakLine(): void {
    if (this.#live) this.#stream.write('\n');
    this.#live = false;
  }
}

/** An onProgress(done, total) callback drawing one live line with an ETA, ended when done reaches total. */
export function progressCallback(label: string): (done: number, total: number) => void {
  let progress: Progress | undefined;
  return (done, total) => {
    progress ??= new Progress(label, total, { every: Math.max(1, Math.ceil(total / 10)) });
    progress.update(done, '');
    if (done >= total) progress.end();
  };
}
