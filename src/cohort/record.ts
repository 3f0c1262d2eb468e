// What a cohort split over machines leaves in its output folder besides the slides' own folders, so that
// `mmfd cohort report` can rebuild cohort.csv and report.html from the folder alone:
//   <out>/.cohort/slides.json        the whole cohort in order (name, path), its settings and model hash,
//                                    written by the enqueuer and by every shard (the same content);
//   <out>/.cohort/failed/<name>.json a slide's last failure, written when its last attempt fails and
//                                    removed when it finishes.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../torch/io/files.js';
import type { SegmentSettings } from './manifest.js';
import type { SlideInput } from './slide_list.js';

const FORMAT = 'mmfd cohort, version 1';
const RECORD_DIR = '.cohort';

export interface CohortList {
  format: string;
  slides: SlideInput[];
  settings: SegmentSettings;
  model: { id: string; sha256: string };
}

const listPath = (out: string) => join(out, RECORD_DIR, 'slides.json');
const failurePath = (out: string, name: string) => join(out, RECORD_DIR, 'failed', `${name}.json`);

export async function writeCohortList(out: string, list: Omit<CohortList, 'format'>): Promise<void> {
  await mkdir(join(out, RECORD_DIR), { recursive: true });
  await writeFileAtomic(listPath(out), `${JSON.stringify({ format: FORMAT, ...list }, null, 2)}\n`);
}

/** The cohort's list, or undefined when the folder has none (a one-machine run); an unreadable one is an error. */
export function readCohortList(out: string): CohortList | undefined {
  const path = listPath(out);
  if (!existsSync(path)) return undefined;
  let list: CohortList;
  try {
    list = JSON.parse(readFileSync(path, 'utf8')) as CohortList;
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (list.format !== FORMAT || !Array.isArray(list.slides)) throw new Error(`${path}: not an mmfd cohort list (${FORMAT})`);
  return list;
}

export async function recordFailure(out: string, name: string, error: string): Promise<void> {
  await mkdir(join(out, RECORD_DIR, 'failed'), { recursive: true });
  await writeFileAtomic(failurePath(out, name), `${JSON.stringify({ name, error }, null, 2)}\n`);
}

export async function clearFailure(out: string, name: string): Promise<void> {
  await rm(failurePath(out, name), { force: true });
}

/** The recorded error of a slide's last failed run, if any. */
export function recordedFailure(out: string, name: string): string | undefined {
  const path = failurePath(out, name);
  if (!existsSync(path)) return undefined;
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { error: string }).error;
  } catch {
    return `unreadable failure record ${path}`;
  }
}
