// A small pool of decode workers (decode_worker.ts). Each worker holds up to JOBS_PER_WORKER jobs at once, the rest
// queue: jobs are handed out on the main thread, which a training step keeps busy for 100-200 ms, so a worker given
// one job at a time decoded one sample per step and the loop waited for the rest (7% of the tiny teacher's loop).
// A worker keeps the process alive only while it has jobs, so a forgotten close() does not hang an exit.
// A crashed worker is not replaced (a worker that cannot start would crash again and again).
import { Worker } from 'node:worker_threads';
import type { DecodeJob, DecodeReply } from './decode_worker.js';
import { DataError } from './errors.js';
import type { Cls2Clr, UnknownColours } from './labels.js';
import type { DecodedSample, SampleFiles } from './pmft.js';

/** Jobs a worker holds at once (it decodes them concurrently; sharp's own threads do the work). */
export const JOBS_PER_WORKER = 8;

interface Pending {
  job: DecodeJob;
  resolve: (s: DecodedSample) => void;
  reject: (e: Error) => void;
}

export class DecodePool {
  readonly #workers = new Set<Worker>();
  readonly #queue: Pending[] = [];
  /** Each worker's jobs by id. */
  readonly #running = new Map<Worker, Map<number, Pending>>();
  #nextId = 0;
  #closed = false;

  constructor(
    readonly size: number,
    readonly cls2clr: Cls2Clr,
    readonly metaInfo: string,
    readonly unknown: UnknownColours = 'error',
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`DecodePool: size must be a positive integer, got ${size}`);
    for (let i = 0; i < size; i++) this.#spawn();
  }

  #spawn(): void {
    const w = new Worker(new URL('./decode_worker.js', import.meta.url));
    this.#workers.add(w);
    this.#running.set(w, new Map());
    w.unref();
    w.on('message', (reply: DecodeReply) => this.#finish(w, reply));
    w.on('error', (err) => this.#crash(w, err));
  }

  #finish(w: Worker, reply: DecodeReply): void {
    // A reply that lands while close() terminates the worker: its job was already failed, and unref'ing
    // the worker now would let the event loop end before terminate() resolves, leaving close() pending.
    if (this.#closed) return;
    const jobs = this.#running.get(w);
    const p = jobs?.get(reply.id);
    jobs?.delete(reply.id);
    if (jobs?.size === 0) w.unref();
    if (p !== undefined) {
      if (reply.ok) {
        const image = { data: reply.rgb, width: reply.width, height: reply.height };
        p.resolve({ name: p.job.files.name, image, mask: reply.mask, ...(reply.valid ? { valid: reply.valid } : {}) });
      } else p.reject(reply.dataError ? new DataError(reply.message) : new Error(reply.message));
    }
    this.#pump();
  }

  /** A worker died (bad files come back as replies, not crashes): its jobs fail; when none is left, every job fails. */
  #crash(w: Worker, err: Error): void {
    for (const p of this.#running.get(w)?.values() ?? []) {
      p.reject(new Error(`decode worker failed on sample '${p.job.files.name}': ${err.message}`));
    }
    this.#running.delete(w);
    this.#workers.delete(w);
    if (this.#workers.size === 0) {
      for (const q of this.#queue.splice(0)) q.reject(new Error(`DecodePool: every decode worker failed (last: ${err.message})`));
    }
  }

  /** Jobs each live worker holds, and jobs still queued. */
  jobs(): { running: number[]; queued: number } {
    return { running: [...this.#running.values()].map((j) => j.size), queued: this.#queue.length };
  }

  /** Hands queued jobs to the least busy workers, up to JOBS_PER_WORKER each. */
  #pump(): void {
    while (this.#queue.length > 0) {
      let w: Worker | undefined;
      let jobs: Map<number, Pending> | undefined;
      for (const [worker, held] of this.#running) {
        if (held.size < (jobs?.size ?? JOBS_PER_WORKER)) [w, jobs] = [worker, held];
      }
      if (w === undefined || jobs === undefined) return;
      const p = this.#queue.shift() as Pending;
      if (jobs.size === 0) w.ref();
      jobs.set(p.job.id, p);
      w.postMessage(p.job);
    }
  }

  decode(files: SampleFiles): Promise<DecodedSample> {
    if (this.#closed) return Promise.reject(new Error('DecodePool: closed'));
    if (this.#workers.size === 0) return Promise.reject(new Error('DecodePool: no decode worker left'));
    return new Promise((resolve, reject) => {
      const job: DecodeJob = { id: this.#nextId++, files, cls2clr: [...this.cls2clr], metaInfo: this.metaInfo, unknown: this.unknown };
      this.#queue.push({ job, resolve, reject });
      this.#pump();
    });
  }

  /** Stops every worker; queued and running jobs fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new Error('DecodePool: closed');
    for (const p of this.#queue.splice(0)) p.reject(closed);
    for (const jobs of this.#running.values()) for (const p of jobs.values()) p.reject(closed);
    this.#running.clear();
    await Promise.all([...this.#workers].map((w) => w.terminate()));
    this.#workers.clear();
  }
}
