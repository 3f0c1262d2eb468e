// What `mmfd segment` runs on: one slide, every slide in a folder, or the slides a list file names, each
// with the name of its output folder. Names are the file's stem, made safe (letters, digits, '.', '_', '-'),
// so an output folder always lies directly inside the output root; two slides with the same name are an error
// before anything runs, not a silent overwrite.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';

/** File extensions OpenSlide reads (and the pyramidal TIFFs this project writes). */
export const SLIDE_EXTENSIONS = ['.svs', '.tif', '.tiff', '.ndpi', '.vms', '.vmu', '.scn', '.mrxs', '.bif', '.svslide'];

export interface SlideInput {
  /** Absolute path of the slide. */
  path: string;
  /** Its output folder's name. */
  name: string;
}

/** A folder of synthetic slides also holds their label images; `<stem>_labels.tif` beside its class table is not a slide. */
function isSyntheticLabels(path: string): boolean {
  return /_labels\.tiff?$/i.test(path) && existsSync(path.replace(/\.tiff?$/i, '.json'));
}

function isSlideFile(path: string): boolean {
  return SLIDE_EXTENSIONS.includes(extname(path).toLowerCase()) && !isSyntheticLabels(path);
}

/** The output folder name for a slide: its stem with anything but [A-Za-z0-9._-] as '_', never starting with '.'. */
export function outputName(path: string): string {
  const name = basename(path, extname(path))
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^\.+/, '');
  return name === '' ? 'slide' : name;
}

/**
 * The slides of `input`: a slide file; a folder (its slide files, not recursing, by name); or a .txt list,
 * one path a line, relative to the list's folder, blank lines and '#' comments ignored. Listed files are not
 * checked here: a missing one fails on its own when run, and the others go on.
 */
export function listSlides(input: string): SlideInput[] {
  if (!existsSync(input)) throw new Error(`${input}: no such slide, folder or list`);
  let paths: string[];
  if (statSync(input).isDirectory()) {
    paths = readdirSync(input)
      .sort()
      .map((f) => join(input, f))
      .filter((p) => statSync(p).isFile() && isSlideFile(p));
    if (paths.length === 0) throw new Error(`${input}: the folder holds no slide files (${SLIDE_EXTENSIONS.join(' ')})`);
  } else if (extname(input).toLowerCase() === '.txt') {
    paths = readFileSync(input, 'utf8')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => resolve(dirname(input), line));
    if (paths.length === 0) throw new Error(`${input}: the list names no slides`);
  } else {
    paths = [input];
  }
  const slides = paths.map((p) => ({ path: resolve(p), name: outputName(p) }));
  const byName = new Map<string, string>();
  for (const s of slides) {
    const other = byName.get(s.name);
    if (other !== undefined)
      throw new Error(`${s.path} and ${other} would both write to the output folder '${s.name}'; rename one of them`);
    byName.set(s.name, s.path);
  }
  return slides;
}
