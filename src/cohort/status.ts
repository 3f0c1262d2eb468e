// `mmfd cohort status --queue <url>`: how many slides wait, run, are done and failed, each failure's reason,
// what each running slide is doing, and each worker's throughput (from the finished jobs' records).
import type { Job, Queue } from 'bullmq';
import type { SlideJobResult } from './job.js';

export interface WorkerThroughput {
  worker: string;
  slides: number;
  /** Seconds spent on its slides. */
  busySeconds: number;
  /** Slides per hour from its first start to its last finish. */
  slidesPerHour: number;
}

export interface CohortStatus {
  waiting: number;
  /** Failed once and waiting for a retry. */
  retrying: number;
  active: number;
  done: number;
  failed: number;
  failures: { name: string; attempts: number; reason: string }[];
  running: { name: string; worker: string; stage: string }[];
  workers: WorkerThroughput[];
}

export async function cohortStatus(queue: Queue): Promise<CohortStatus> {
  const counts = await queue.getJobCounts('wait', 'prioritized', 'delayed', 'active', 'completed', 'failed');
  const failedJobs = await queue.getJobs(['failed'], 0, -1);
  const activeJobs = await queue.getJobs(['active'], 0, -1);
  const completed = (await queue.getJobs(['completed'], 0, -1)).filter((j): j is Job => j !== undefined);
  const byWorker = new Map<string, { slides: number; busy: number; first: number; last: number }>();
  for (const job of completed) {
    const result = job.returnvalue as SlideJobResult | null;
    if (result === null || result.status !== 'done') continue;
    const w = byWorker.get(result.worker) ?? { slides: 0, busy: 0, first: Infinity, last: 0 };
    w.slides++;
    w.busy += result.seconds;
    w.first = Math.min(w.first, job.processedOn ?? Infinity);
    w.last = Math.max(w.last, job.finishedOn ?? 0);
    byWorker.set(result.worker, w);
  }
  return {
    waiting: counts.wait! + counts.prioritized!,
    retrying: counts.delayed!,
    active: counts.active!,
    done: counts.completed!,
    failed: counts.failed!,
    failures: failedJobs.filter((j) => j !== undefined).map((j) => ({ name: j.name, attempts: j.attemptsMade, reason: j.failedReason })),
    running: activeJobs
      .filter((j) => j !== undefined)
      .map((j) => {
        const p = j.progress as { stage?: string; fraction?: number } | number;
        const stage = typeof p === 'object' && p.stage !== undefined ? `${p.stage} ${Math.round(100 * (p.fraction ?? 0))}%` : 'starting';
        return { name: j.name, worker: j.processedBy ?? '?', stage };
      }),
    workers: [...byWorker.entries()]
      .map(([worker, w]) => ({
        worker,
        slides: w.slides,
        busySeconds: w.busy,
        slidesPerHour: w.last > w.first ? (3600 * 1000 * w.slides) / (w.last - w.first) : 0,
      }))
      .sort((a, b) => (a.worker < b.worker ? -1 : 1)),
  };
}

export function formatStatus(s: CohortStatus): string {
  const lines = [
    `waiting ${s.waiting}, retrying ${s.retrying}, active ${s.active}, done ${s.done}, failed ${s.failed}`,
    ...s.running.map((r) => `running: ${r.name} on ${r.worker}: ${r.stage}`),
    ...s.failures.map((f) => `failed: ${f.name} (${f.attempts} attempt${f.attempts === 1 ? '' : 's'}): ${f.reason}`),
    ...s.workers.map(
      (w) =>
        `worker ${w.worker}: ${w.slides} slide${w.slides === 1 ? '' : 's'}, ${w.busySeconds.toFixed(1)} s busy, ${w.slidesPerHour.toFixed(1)} slides/h`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
