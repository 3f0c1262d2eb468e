// `mmfd segment <slides> --out <dir> --queue <url>`: one BullMQ job per slide. The job id is the slide's run
// key (job.ts), so enqueuing the same cohort again adds nothing: a slide already finished in the output
// folder is skipped, a queued or running one is left alone, a failed one is retried, and a changed slide,
// model or setting is a new job.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { parseSlideJob, slideJobId } from './job.js';
import { fileSha256, readManifest, type SegmentSettings, sameKey } from './manifest.js';
import { recordFailure, writeCohortList } from './record.js';
import type { SlideSegmenter } from './run.js';
import type { SlideInput } from './slide_list.js';

export interface EnqueueOptions {
  /** The shared output folder, absolute. */
  out: string;
  settings: SegmentSettings;
  /** The model the workers must have (its hash is checked by each worker). */
  model: Pick<SlideSegmenter, 'id' | 'sha256'>;
  /** Runs of a slide before it ends as failed. */
  attempts: number;
  /** The delay before the first retry; it doubles for each later one. */
  retryDelayMs: number;
}

export type EnqueueState = 'added' | 'finished' | 'queued' | 'retried' | 'failed';

export interface EnqueueOutcome {
  name: string;
  state: EnqueueState;
  error?: string;
}

export async function enqueueCohort(queue: Queue, slides: readonly SlideInput[], o: EnqueueOptions): Promise<EnqueueOutcome[]> {
  await mkdir(o.out, { recursive: true });
  await writeCohortList(o.out, { slides: [...slides], settings: o.settings, model: { id: o.model.id, sha256: o.model.sha256 } });
  const outcomes: EnqueueOutcome[] = [];
  for (const slide of slides) {
    if (!existsSync(slide.path)) {
      // It cannot be hashed, so it cannot be a job: it fails here, as it would on one machine.
      const error = `${slide.path}: no such slide`;
      await recordFailure(o.out, slide.name, error);
      outcomes.push({ name: slide.name, state: 'failed', error });
      continue;
    }
    const { sha256 } = await fileSha256(slide.path);
    const finished = readManifest(join(o.out, slide.name));
    if (finished !== undefined && sameKey(finished, { slideSha256: sha256, modelSha256: o.model.sha256, settings: o.settings })) {
      outcomes.push({ name: slide.name, state: 'finished' });
      continue;
    }
    const data = parseSlideJob({
      slide: slide.path,
      name: slide.name,
      out: o.out,
      slideSha256: sha256,
      modelSha256: o.model.sha256,
      settings: o.settings,
    });
    const jobId = slideJobId(data);
    const existing = await queue.getJob(jobId);
    const state = existing === undefined ? undefined : await existing.getState();
    if (existing !== undefined && state === 'failed') {
      await existing.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      outcomes.push({ name: slide.name, state: 'retried' });
      continue;
    }
    if (existing !== undefined && state !== 'completed' && state !== 'unknown') {
      outcomes.push({ name: slide.name, state: 'queued' });
      continue;
    }
    // Completed, yet its outputs are gone or were replaced: run it again.
    if (existing !== undefined) await existing.remove();
    await queue.add(slide.name, data, {
      jobId,
      attempts: o.attempts,
      backoff: { type: 'exponential', delay: o.retryDelayMs },
      removeOnComplete: false,
      removeOnFail: false,
    });
    outcomes.push({ name: slide.name, state: 'added' });
  }
  return outcomes;
}
