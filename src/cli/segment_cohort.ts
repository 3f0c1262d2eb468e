// The two ways `mmfd segment` splits a cohort over machines: --queue (one job per slide for `mmfd worker`s,
// cohort/enqueue.ts) and --shard i/n (this part's slides on this machine, cohort/shard.ts). Either way the
// cohort's list goes into the output folder, and `mmfd cohort report <out>` writes cohort.csv and report.html.
import { resolve } from 'node:path';
import { Queue } from 'bullmq';
import { commandConnection } from '../cohort/connection.js';
import { enqueueCohort } from '../cohort/enqueue.js';
import { QUEUE_NAME } from '../cohort/job.js';
import type { SegmentSettings } from '../cohort/manifest.js';
import { clearFailure, recordFailure, writeCohortList } from '../cohort/record.js';
import { parseRedisUrl } from '../cohort/redis_url.js';
import { type CohortEvent, runCohort, type SlideSegmenter } from '../cohort/run.js';
import { type Shard, shardSlides } from '../cohort/shard.js';
import type { SlideInput } from '../cohort/slide_list.js';
import { UsageError } from './args.js';

/** What both modes take; the caller owns (and disposes) the segmenter. */
interface Common {
  out: string;
  settings: SegmentSettings;
  segmenter: SlideSegmenter;
}

/** Enqueues the cohort; exit code 0, 1 when a slide could not be enqueued; a bad URL is a usage error. */
export async function enqueueCommand(
  slides: readonly SlideInput[],
  o: Common & { url: string; attempts: number; retryDelayMs: number },
): Promise<number> {
  let target: ReturnType<typeof parseRedisUrl>;
  try {
    target = parseRedisUrl(o.url);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const connection = await commandConnection(target);
  const queue = new Queue(QUEUE_NAME, { connection });
  try {
    const out = resolve(o.out);
    // Workers on other machines read the checkpoint by this path: it must not depend on this one's folder.
    const settings = { ...o.settings, checkpoint: o.settings.checkpoint === null ? null : resolve(o.settings.checkpoint) };
    const outcomes = await enqueueCohort(queue, slides, {
      out,
      settings,
      model: o.segmenter,
      attempts: o.attempts,
      retryDelayMs: o.retryDelayMs,
    });
    for (const r of outcomes) process.stderr.write(`${r.name}: ${r.state}${r.error === undefined ? '' : `: ${r.error}`}\n`);
    const count = (state: string) => outcomes.filter((r) => r.state === state).length;
    console.log(
      `${count('added')} added, ${count('retried')} retried, ${count('queued')} already queued, ${count('finished')} finished earlier, ${count('failed')} failed on ${target.redacted}; ` +
        `start workers with: mmfd worker --queue <url> --root <folder holding the slides and ${out}>; then mmfd cohort report ${out}`,
    );
    return count('failed') > 0 ? 1 : 0;
  } finally {
    await queue.close();
    await connection.quit();
  }
}

/** Runs this shard's slides; cohort.csv and report.html wait for `mmfd cohort report`. Exit code 1 when any failed. */
export async function shardCommand(
  slides: readonly SlideInput[],
  o: Common & { shard: Shard; allowUpsample: boolean; onEvent: (event: CohortEvent) => void },
): Promise<number> {
  const mine = shardSlides(slides, o.shard);
  const { id, sha256 } = o.segmenter;
  await writeCohortList(o.out, { slides: [...slides], settings: o.settings, model: { id, sha256 } });
  process.stderr.write(`mmfd segment: shard ${o.shard.index}/${o.shard.count}: ${mine.length} of ${slides.length} slide(s)\n`);
  const outcomes = await runCohort(mine, {
    out: o.out,
    segmenter: o.segmenter,
    settings: o.settings,
    allowUpsample: o.allowUpsample,
    onEvent: o.onEvent,
    writeReport: false,
  });
  for (const r of outcomes)
    if (r.status === 'failed') await recordFailure(o.out, r.name, r.error ?? 'failed');
    else await clearFailure(o.out, r.name);
  const failed = outcomes.filter((r) => r.status === 'failed');
  console.log(
    `shard ${o.shard.index}/${o.shard.count}: ${outcomes.length - failed.length} finished, ${failed.length} failed; when every shard has finished: mmfd cohort report ${o.out}`,
  );
  for (const r of failed) console.log(`failed: ${r.name}: ${r.error}`);
  return failed.length > 0 ? 1 : 0;
}
