// A queue worker (`mmfd worker`): takes slide jobs from Redis and runs each through the same per-slide
// function as a one-machine cohort (cohort/run.ts runSlide: built in `<out>/.<name>.partial/`, then renamed),
// so its outputs are those of a one-machine run. BullMQ holds a lock on each running job and renews it; a
// worker that dies stops renewing, and once the lock expires another worker's stalled-job check puts the job
// back in the queue (it then resumes from what the partial folder holds, as a rerun does).
// A job is checked before anything is read: its data against the schema, and its slide, output folder and
// checkpoint against --root (real paths, so a symlink out of the root is refused too). A refused job fails at
// once, with no retries. A slide whose last attempt fails leaves its error in the cohort's folder (record.ts).
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseSlideJob, QUEUE_NAME, type SlideJob, type SlideJobResult } from './job.js';
import type { SegmentSettings } from './manifest.js';
import { clearFailure, recordFailure } from './record.js';
import { runSlide, type SlideSegmenter, type Stage } from './run.js';

export interface WorkerOptions {
  connection: Redis;
  /** Slides, output folders and checkpoints must lie under this folder. */
  root: string;
  concurrency: number;
  /** How long a job's lock lasts without renewal: a dead worker's job is taken over after about this long. */
  lockMs: number;
  /** This worker's name in `mmfd cohort status` (host:pid). */
  name: string;
  makeSegmenter: (settings: SegmentSettings) => Promise<SlideSegmenter>;
  log: (line: string) => void;
}

/** How often a running job's stage is sent to Redis, at most. */
const PROGRESS_EVERY_MS = 2000;

export function startWorker(o: WorkerOptions): { worker: Worker; close(): Promise<void> } {
  if (!existsSync(o.root)) throw new Error(`--root ${o.root}: no such folder`);
  const root = realpathSync(o.root);
  const segmenters = new Map<string, Promise<SlideSegmenter>>();
  const segmenterFor = (settings: SegmentSettings) => {
    const key = JSON.stringify([settings.model, settings.checkpoint]);
    let made = segmenters.get(key);
    if (made === undefined) {
      made = o.makeSegmenter(settings);
      // A model that failed to load is tried again by the next job.
      made.catch(() => segmenters.delete(key));
      segmenters.set(key, made);
    }
    return made;
  };

  const processSlide = async (job: Job): Promise<SlideJobResult> => {
    const started = Date.now();
    let data: SlideJob;
    try {
      data = parseSlideJob(job.data);
      underRoot(root, data.slide, 'slide');
      underRoot(root, data.out, 'output folder');
      if (data.settings.checkpoint !== null) underRoot(root, data.settings.checkpoint, 'checkpoint');
    } catch (err) {
      const message = `refused job ${job.id}: ${(err as Error).message}`;
      o.log(message);
      throw new UnrecoverableError(message);
    }
    const attempts = job.opts.attempts ?? 1;
    const attempt = job.attemptsMade + 1;
    o.log(`${data.name}: started (attempt ${attempt}/${attempts})`);
    try {
      const segmenter = await segmenterFor(data.settings);
      if (segmenter.sha256 !== data.modelSha256)
        throw new Error(
          `this worker's ${data.settings.model} (${segmenter.id}, sha256 ${segmenter.sha256.slice(0, 12)}…) is not the enqueued model (sha256 ${data.modelSha256.slice(0, 12)}…)`,
        );
      let sent = 0;
      const progress = (stage: Stage, fraction: number) => {
        if (Date.now() - sent < PROGRESS_EVERY_MS) return;
        sent = Date.now();
        // Progress is for display only: a lost connection must not fail the slide.
        job.updateProgress({ stage, fraction }).catch(() => {});
      };
      const outcome = await runSlide(
        { path: data.slide, name: data.name },
        { out: data.out, segmenter, settings: data.settings },
        progress,
      );
      await clearFailure(data.out, data.name);
      const seconds = (Date.now() - started) / 1000;
      o.log(`${data.name}: ${outcome.status === 'skipped' ? 'already finished' : 'done'} in ${seconds.toFixed(1)} s`);
      return { worker: o.name, status: outcome.status === 'skipped' ? 'skipped' : 'done', seconds };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (attempt >= attempts) await recordFailure(data.out, data.name, message);
      o.log(`${data.name}: failed (attempt ${attempt}/${attempts}): ${message}`);
      throw err;
    }
  };

  const worker = new Worker(QUEUE_NAME, processSlide, {
    connection: o.connection,
    concurrency: o.concurrency,
    lockDuration: o.lockMs,
    stalledInterval: o.lockMs,
    maxStalledCount: 1,
    name: o.name,
  });
  worker.on('stalled', (jobId) => o.log(`job ${jobId} stalled (its worker stopped renewing the lock): back in the queue`));
  worker.on('error', (err) => {
    // Lost connections are reported by the connection itself (connection.ts).
    if (!/ECONNREFUSED|ECONNRESET|Connection is closed|ETIMEDOUT|EPIPE/.test(err.message)) o.log(`worker error: ${err.message}`);
  });
  return {
    worker,
    async close() {
      await worker.close();
      for (const made of segmenters.values()) (await made.catch(() => undefined))?.dispose?.();
    },
  };
}

/** Throws unless `path`, symlinks resolved, lies under `root` (already a real path). */
function underRoot(root: string, path: string, what: string): void {
  const real = realPathAllowingMissing(path);
  if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep))
    throw new Error(`the ${what} ${path} is outside the worker's --root ${root}`);
}

/** The real path of `path`: its deepest existing folder resolved, the missing rest appended. A dangling
 *  symlink on the way is an error (what it would create is not known). */
function realPathAllowingMissing(path: string): string {
  const missing: string[] = [];
  let p = path;
  for (;;) {
    try {
      return join(realpathSync(p), ...missing);
    } catch {
      if (isLink(p)) throw new Error(`${p} is a dangling symlink`);
      const up = dirname(p);
      if (up === p) throw new Error(`${path}: cannot resolve`);
      missing.unshift(basename(p));
      p = up;
    }
  }
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
