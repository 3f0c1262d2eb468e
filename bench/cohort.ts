// npm run bench:cohort — a cohort of 8 synthetic slides (2,560 px square at 0.5 um/px, read at the tiny slide
// student's 1.0 um/px) segmented three ways on this machine, each process on one intra-op thread:
//   one-machine   `mmfd segment` (no queue), the baseline;
//   queue-1       `mmfd segment --queue` and one `mmfd worker`;
//   queue-2       the same with two workers.
// Each run writes a fresh output folder from an empty Redis (a real redis-server on 127.0.0.1, AOF on). The
// speed-up is one-machine's wall time over queue-2's, and queue-1's over queue-2's; the queue's overhead per
// job is measured twice: queue-1's wall time less the slides' own time (spent inside the worker), per slide,
// and as the round trip of 200 empty jobs through one in-process BullMQ worker. Writes bench/results/cohort.json.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAME, type SlideJobResult } from '../src/cohort/job.js';
import { writeSyntheticSlide } from '../src/synth/slide/slide.js';
import { startRedis } from '../test/helpers/redis_server.js';
import { writeBenchResult } from './results_file.js';

const root = new URL('../..', import.meta.url).pathname;
const work = join(root, '.tmp', 'bench-cohort');
const HELPER = join(root, 'dist', 'bench', 'cohort_worker.js');
const SLIDES = 8;
const SIZE = 2560;
const NOOP_JOBS = 200;
const env = { ...process.env, MMFD_NUM_THREADS: '1' };

async function makeSlides(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (let k = 0; k < SLIDES; k++) {
    const out = join(dir, `slide${k}.tif`);
    if (!existsSync(out)) await writeSyntheticSlide({ out, width: SIZE, height: SIZE, seed: 100 + k, mpp: 0.5 });
  }
}

function startWorker(url: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [HELPER, 'worker', '--queue', url, '--root', work], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    proc.stderr!.on('data', (c: Buffer) => {
      log += c.toString();
      if (log.includes('waiting for slides')) resolve(proc);
    });
    proc.once('exit', (code) => reject(new Error(`worker exited with ${code}:\n${log}`)));
  });
}

async function queueRun(url: string, queue: Queue, workers: number, slides: string) {
  await queue.obliterate({ force: true });
  const out = join(work, `out-queue-${workers}`);
  rmSync(out, { recursive: true, force: true });
  const procs = await Promise.all(Array.from({ length: workers }, () => startWorker(url)));
  const started = Date.now();
  execFileSync(process.execPath, [HELPER, 'segment', slides, '--out', out, '--queue', url], { env, stdio: 'ignore' });
  const enqueue = (Date.now() - started) / 1000;
  for (;;) {
    const { completed, failed } = await queue.getJobCounts('completed', 'failed');
    if (failed! > 0) throw new Error(`queue-${workers}: ${failed} slide(s) failed`);
    if (completed === SLIDES) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const jobs = await queue.getJobs(['completed']);
  const last = Math.max(...jobs.map((j) => j.finishedOn!));
  const wall = (last - started) / 1000;
  // From the first job taken to the last finished: the workers' time, without the enqueuer's start-up.
  const working = (last - Math.min(...jobs.map((j) => j.processedOn!))) / 1000;
  const slideSeconds = jobs.map((j) => (j.returnvalue as SlideJobResult).seconds);
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((resolve) => {
          p.once('exit', () => resolve());
          p.kill('SIGTERM');
        }),
    ),
  );
  const sum = slideSeconds.reduce((a, b) => a + b, 0);
  return {
    workers,
    wall_s: wall,
    enqueue_s: enqueue,
    working_s: working,
    slide_s_mean: sum / SLIDES,
    overhead_ms_per_job: (1000 * (working * workers - sum)) / SLIDES,
  };
}

/** ms per job of BullMQ itself: empty jobs through one worker, from the first add to the last completion. */
async function noopOverhead(connection: Redis): Promise<number> {
  const name = 'mmfd-bench-noop';
  const queue = new Queue(name, { connection });
  await queue.obliterate({ force: true });
  const blocking = connection.duplicate();
  const worker = new Worker(name, async () => 0, { connection: blocking, concurrency: 1 });
  await worker.waitUntilReady();
  const done = new Promise<void>((resolve) => {
    let n = 0;
    worker.on('completed', () => ++n === NOOP_JOBS && resolve());
  });
  const started = performance.now();
  await queue.addBulk(Array.from({ length: NOOP_JOBS }, (_, k) => ({ name: 'noop', data: { k }, opts: { removeOnComplete: false } })));
  await done;
  const ms = (performance.now() - started) / NOOP_JOBS;
  await worker.close();
  blocking.disconnect();
  await queue.obliterate({ force: true });
  await queue.close();
  return ms;
}

async function main(): Promise<void> {
  const slides = join(work, 'slides');
  await makeSlides(slides);
  const loadStart = loadavg()[0];
  const redis = await startRedis();
  const url = `redis://127.0.0.1:${redis.port}/0`;
  const connection = new Redis({ port: redis.port, host: '127.0.0.1', maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAME, { connection });
  try {
    const noop = await noopOverhead(connection);
    console.log(`BullMQ round trip of an empty job: ${noop.toFixed(2)} ms`);
    const oneOut = join(work, 'out-one-machine');
    rmSync(oneOut, { recursive: true, force: true });
    const t0 = Date.now();
    execFileSync(process.execPath, [HELPER, 'segment', slides, '--out', oneOut], { env, stdio: 'ignore' });
    const oneMachine = (Date.now() - t0) / 1000;
    console.log(`one machine, no queue: ${oneMachine.toFixed(1)} s`);
    const runs = [];
    for (const workers of [1, 2]) {
      const r = await queueRun(url, queue, workers, slides);
      console.log(
        `queue, ${workers} worker(s): ${r.wall_s.toFixed(1)} s (enqueue ${r.enqueue_s.toFixed(1)} s, workers busy ${r.working_s.toFixed(1)} s); ${r.slide_s_mean.toFixed(2)} s per slide in the worker; overhead ${r.overhead_ms_per_job.toFixed(0)} ms per job`,
      );
      runs.push(r);
    }
    const [one, two] = runs;
    // The speed-up of the work itself; the wall-time ratio also counts the enqueuer's start (model load, hashing).
    const result = {
      slides: SLIDES,
      slide_px: SIZE,
      slide_mpp: 0.5,
      model: 'tiny slide student (configs/tiny-mobilesam-slides.yaml), random weights, 1 intra-op thread per process',
      cores: availableParallelism(),
      loadavg_1m: { start: loadStart, end: loadavg()[0] },
      one_machine_wall_s: oneMachine,
      queue: runs,
      speedup_2_workers_vs_1: one!.working_s / two!.working_s,
      speedup_2_workers_vs_1_wall: one!.wall_s / two!.wall_s,
      speedup_2_workers_vs_one_machine: oneMachine / two!.wall_s,
      queue_overhead_ms_per_job: one!.overhead_ms_per_job,
      bullmq_empty_job_ms: noop,
    };
    console.log(
      `speed-up with 2 workers: ${result.speedup_2_workers_vs_1.toFixed(2)}x over 1 worker, ${result.speedup_2_workers_vs_one_machine.toFixed(2)}x over one machine`,
    );
    writeBenchResult('cohort', result);
  } finally {
    await queue.close();
    connection.disconnect();
    await redis.stop();
  }
}

await main();
