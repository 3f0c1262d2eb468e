// One queued slide: what the enqueuer puts in a BullMQ job and what a worker accepts from one. A worker
// trusts nothing in a job: its data is checked against this schema before any path in it is used.
import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import type { SegmentSettings } from './manifest.js';

/** The BullMQ queue every mmfd cohort job goes to (a cohort is told apart by its output folder). */
export const QUEUE_NAME = 'mmfd-segment';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex');
const absolute = z.string().refine((p) => isAbsolute(p) && !p.includes('\0'), 'an absolute path');

const settingsSchema = z.strictObject({
  model: z.enum(['student', 'teacher']),
  checkpoint: absolute.nullable(),
  mpp: z.number().positive().nullable(),
  min_object_um2: z.number().min(0),
  geojson_level: z.number().int().min(0).max(16),
  overlay_level: z.number().int().min(0).max(16),
  thumbnail_max: z.number().int().min(16),
}) satisfies z.ZodType<SegmentSettings>;

export const slideJobSchema = z.strictObject({
  /** The slide, as the enqueuer listed it (it must lie under the worker's --root). */
  slide: absolute,
  /** Its output folder's name inside `out` (slide_list.ts's outputName: never a path). */
  name: z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/, "a folder name of [A-Za-z0-9._-] not starting with '.'"),
  /** The cohort's shared output folder. */
  out: absolute,
  slideSha256: sha256,
  modelSha256: sha256,
  settings: settingsSchema,
});

export type SlideJob = z.infer<typeof slideJobSchema>;

/** What a worker's job returns: who ran it and how long it took, for `mmfd cohort status`. */
export interface SlideJobResult {
  worker: string;
  status: 'done' | 'skipped';
  seconds: number;
}

/**
 * The job id: a hash of everything the outputs depend on (slide hash, model hash, settings: the manifest's
 * resume key) and of where they go, so enqueuing the same cohort again adds nothing.
 */
export function slideJobId(job: SlideJob): string {
  const key = JSON.stringify([job.slideSha256, job.modelSha256, job.settings, job.out, job.name]);
  return `slide-${createHash('sha256').update(key).digest('hex')}`;
}

/** The job's data checked against the schema; the error names the first bad field. */
export function parseSlideJob(data: unknown): SlideJob {
  const parsed = slideJobSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new Error(`malformed job: ${issue.path.join('.') || 'data'}: ${issue.message}`);
}
