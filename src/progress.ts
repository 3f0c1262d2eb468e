// Progress reporting for long jobs, one home for all of it: a live line rewritten in place on a terminal
// (LiveLine), printed as full lines only now and then elsewhere (a log file, a CI job) so the output stays
// readable; the counted form `<label> 120/500 (24%) <fields> ETA 3m05s` (Progress); and the cohort's
// per-slide and per-stage report (cohortProgressPrinter).
import type { CohortEvent } from './cohort/run.js';

/** 75 -> "1m15s", 3725 -> "1h02m", 9 -> "9s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Seconds left when `fraction` (0-1) of the work took `elapsed` seconds; NaN before any work is done. */
export function etaSeconds(elapsed: number, fraction: number): number {
  return fraction > 0 ? (elapsed * (1 - fraction)) / fraction : Number.NaN;
}

type Stream = NodeJS.WritableStream & { isTTY?: boolean };

/** One status line: rewritten in place on a terminal, with notes printed above it. */
export class LiveLine {
  readonly #stream: Stream;
  #live = false;

  constructor(stream: Stream = process.stderr) {
    this.#stream = stream;
  }

  /** On a terminal `text` replaces the live line; elsewhere it is printed as a line of its own when `due`. */
  show(text: string, due: boolean): void {
    if (this.#stream.isTTY) {
      this.#stream.write(`\r${text}\x1b[K`);
      this.#live = true;
    } else if (due) {
      this.#stream.write(`${text}\n`);
    }
  }

  /** A line of its own (e.g. a validation result), printed below the live line. */
  note(text: string): void {
    this.end();
    this.#stream.write(`${text}\n`);
  }

  /** Ends the live line. */
  end(): void {
    if (this.#live) this.#stream.write('\n');
    this.#live = false;
  }
}

export interface ProgressOptions {
  stream?: Stream;
  /** Units between printed lines when not on a terminal (default: a twentieth of the total). */
  every?: number;
  /** Units already done when the job (re)starts; the ETA uses the rate since then. */
  start?: number;
}

export class Progress {
  readonly #line: LiveLine;
  readonly #every: number;
  readonly #start: number;
  readonly #t0 = performance.now();

  constructor(
    readonly label: string,
    readonly total: number,
    o: ProgressOptions = {},
  ) {
    this.#line = new LiveLine(o.stream);
    this.#every = Math.max(1, o.every ?? Math.ceil(total / 20));
    this.#start = o.start ?? 0;
  }

  /** Seconds left at the rate since the start, or NaN before the first unit. */
  eta(done: number): number {
    return etaSeconds((performance.now() - this.#t0) / 1000, (done - this.#start) / (this.total - this.#start));
  }

  update(done: number, fields: string): void {
    const pct = this.total > 0 ? Math.floor((100 * done) / this.total) : 100;
    const tail =
      done >= this.total ? `done in ${formatDuration((performance.now() - this.#t0) / 1000)}` : `ETA ${formatDuration(this.eta(done))}`;
    const line = [`${this.label} ${done}/${this.total} (${pct}%)`, fields, tail].filter((s) => s !== '').join(' ');
    this.#line.show(line, done % this.#every === 0 || done >= this.total);
  }

  /** A line of its own (e.g. a validation result), printed below the live line. */
  note(text: string): void {
    this.#line.note(text);
  }

  /** Ends the live line. */
  end(): void {
    this.#line.end();
  }
}

/**
 * Progress of a cohort run: one line per slide event, and the running stage with the overall fraction and ETA,
 * rewritten in place on a terminal, or printed at each new stage and every 10% of it otherwise.
 */
export function cohortProgressPrinter(stream: Stream = process.stderr): (event: CohortEvent) => void {
  const t0 = performance.now();
  const line = new LiveLine(stream);
  let lastKey = '';
  return (event) => {
    const eta =
      event.overall > 0 && event.overall < 1 ? ` ETA ${formatDuration(etaSeconds((performance.now() - t0) / 1000, event.overall))}` : '';
    const overall = `overall ${(100 * event.overall).toFixed(1)}%${eta}`;
    if (event.kind === 'slide') {
      const head = `[${event.index + 1}/${event.total}] ${event.name}`;
      if (event.status === 'running') line.note(`${head}: started`);
      else if (event.status === 'skipped')
        line.note(`${head}: skipped (finished earlier; slide, model and settings unchanged) | ${overall}`);
      else if (event.status === 'done') line.note(`${head}: done in ${formatDuration(event.seconds ?? 0)} | ${overall}`);
      else line.note(`${head}: FAILED: ${event.error} | ${overall}`);
      return;
    }
    const key = `${event.index}:${event.stage}:${Math.floor(event.stageFraction * 10)}`;
    line.show(`  ${event.name}: ${event.stage} ${(100 * event.stageFraction).toFixed(0)}% | ${overall}`, key !== lastKey);
    lastKey = key;
  };
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
