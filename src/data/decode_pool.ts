// A small pool of decode workers (decode_worker.ts). Jobs queue until a worker is free; a worker
// keeps the process alive only while it has a job, so a forgotten close() does not hang an exit.
// A crashed worker is not replaced (a worker that cannot start would crash again and again).
import { Worker } from 'node:worker_threads';
import type { DecodeJob, DecodeReply } from './decode_worker.js';
import { DataError } from './errors.js';
import type { Cls2Clr, UnknownColours } from './labels.js';
import type { DecodedSample, SampleFiles } from './pmft.js';

interface Pending {
  job: DecodeJob;
  resolve: (s: DecodedSample) => void;
  reject: (e: Error) => void;
}

export class DecodePool {
  readonly #workers = new Set<Worker>();
  readonly #idle: Worker[] = [];
  readonly #queue: Pending[] = [];
  readonly #running = new Map<Worker, Pending>();
  #nextId = 0;
  #closed = false;

  constructor(
    readonly size: number,
    readonly cls2clr: Cls2Clr,
    readonly metaInfo: string,
    readonly unknown: UnknownColours = 'error',
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`DecodePool: size must be a positive integer, got ${size}`);
    for (let i = 0; i < size; i++) this.#idle.push(this.#spawn());
  }

  #spawn(): Worker {
    const w = new Worker(new URL('./decode_worker.js', import.meta.url));
    this.#workers.add(w);
    w.unref();
    w.on('message', (reply: DecodeReply) => this.#finish(w, reply));
    w.on('error', (err) => this.#crash(w, err));
    return w;
  }

  #finish(w: Worker, reply: DecodeReply): void {
    // A reply that lands while close() terminates the worker: its job was already failed, and unref'ing
    // the worker now would let the event loop end before terminate() resolves, leaving close() pending.
    if (this.#closed) return;
    const p = this.#running.get(w);
    this.#running.delete(w);
    w.unref();
    this.#idle.push(w);
    if (p !== undefined) {
      if (reply.ok) {
        const image = { data: reply.rgb, width: reply.width, height: reply.height };
        p.resolve({ name: p.job.files.name, image, mask: reply.mask, ...(reply.valid ? { valid: reply.valid } : {}) });
      } else p.reject(reply.dataError ? new DataError(reply.message) : new Error(reply.message));
    }
    this.#pump();
  }

  /** A worker died (bad files come back as replies, not crashes): its job fails; when none is left, every job fails. */
  #crash(w: Worker, err: Error): void {
    const p = this.#running.get(w);
    this.#running.delete(w);
    this.#workers.delete(w);
    const i = this.#idle.indexOf(w);
    if (i >= 0) this.#idle.splice(i, 1);
    p?.reject(new Error(`decode worker failed on sample '${p.job.files.name}': ${err.message}`));
    if (this.#workers.size === 0) {
      for (const q of this.#queue.splice(0)) q.reject(new Error(`DecodePool: every decode worker failed (last: ${err.message})`));
    }
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#idle.length > 0) {
      const w = this.#idle.pop() as Worker;
      const p = this.#queue.shift() as Pending;
      this.#running.set(w, p);
      w.ref();
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
    for (const p of this.#running.values()) p.reject(closed);
    this.#running.clear();
    this.#idle.length = 0;
    await Promise.all([...this.#workers].map((w) => w.terminate()));
    this.#workers.clear();
  }
}
