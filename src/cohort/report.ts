// `mmfd cohort report <out>`: cohort.csv and report.html from the finished manifests in a cohort's output
// folder, whichever machines made them (queue workers, shards, one machine). The rows are the cohort's list
// (record.ts) in order, so the files are those a one-machine run of the same cohort writes; a folder with no
// list (a one-machine run's) has a row per finished slide folder, by name.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SlideMeasurements } from '../slides/export/measure.js';
import { type Manifest, readManifest } from './manifest.js';
import { readCohortList, recordedFailure } from './record.js';
import { MEASUREMENTS_FILE, type SlideOutcome, writeCohortOutputs } from './run.js';

export async function writeCohortReportFromFolder(out: string): Promise<SlideOutcome[]> {
  if (!existsSync(out)) throw new Error(`${out}: no such output folder`);
  const list = readCohortList(out);
  const slides =
    list?.slides ??
    readdirSync(out, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && readManifest(join(out, e.name)) !== undefined)
      .map((e) => ({ name: e.name, path: readManifest(join(out, e.name))!.slide.path }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (slides.length === 0) throw new Error(`${out}: no cohort list (.cohort/slides.json) and no finished slide folders`);
  const outcomes = slides.map(({ name, path }): SlideOutcome => {
    const manifest = readManifest(join(out, name));
    const measurements = join(out, name, MEASUREMENTS_FILE);
    if (manifest !== undefined && matches(manifest, list) && existsSync(measurements))
      return { name, path, status: 'done', measurements: JSON.parse(readFileSync(measurements, 'utf8')) as SlideMeasurements };
    const error =
      recordedFailure(out, name) ??
      (manifest === undefined
        ? `not finished: no manifest in ${join(out, name)}`
        : `not finished: ${join(out, name)} was made with another model or other settings`);
    return { name, path, status: 'failed', error };
  });
  await writeCohortOutputs(out, outcomes);
  return outcomes;
}

function matches(manifest: Manifest, list: ReturnType<typeof readCohortList>): boolean {
  if (manifest.status !== 'complete') return false;
  if (list === undefined) return true;
  return manifest.model.sha256 === list.model.sha256 && JSON.stringify(manifest.settings) === JSON.stringify(list.settings);
}
