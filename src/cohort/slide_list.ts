// What `mmfd segment` runs on: one slide, every slide in a folder, or the slides a list file names, each
// with the name of its output folder. Names are the file's stem, made safe (letters, digits, '.', '_', '-'),
// so an output folder always lies directly inside the output root. Names never equal the cohort's own files
// (report.html.tif) nor each other, ignoring case (a.tif and A.tif on a case-insensitive disk): a later slide
// with a taken name gets '-2', '-3', ... The same file listed twice is an error before anything runs.
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { COHORT_FILES } from './run.js';

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
    // A link to nothing (or an unreadable entry) with a slide's extension is kept: it fails on its own when run.
    paths = readdirSync(input)
      .sort()
      .map((f) => join(input, f))
      .filter((p) => isSlideFile(p) && statSync(p, { throwIfNoEntry: false })?.isDirectory() !== true);
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
  return withOutputNames(paths.map((p) => resolve(p)));
}

/** Each slide with an output folder name of its own (see the top of this file). */
export function withOutputNames(paths: readonly string[]): SlideInput[] {
  const seen = new Set<string>();
  for (const p of paths) {
    if (seen.has(p)) throw new Error(`${p} is listed twice; list each slide once`);
    seen.add(p);
  }
  const fold = (name: string) => name.toLowerCase();
  const wanted = paths.map((p) => outputName(p));
  const taken = new Set([...COHORT_FILES, ...wanted].map(fold));
  const kept = new Set<string>(COHORT_FILES.map(fold));
  const names = new Array<string | undefined>(paths.length);
  // A name that is the file's own stem, unchanged, is claimed first: 'x_y.tif' keeps 'x_y' beside 'x y.tif'.
  const claim = (i: number) => {
    let name = wanted[i] as string;
    if (kept.has(fold(name))) {
      let n = 2;
      while (taken.has(fold(`${name}-${n}`))) n++;
      name = `${name}-${n}`;
    }
    taken.add(fold(name));
    kept.add(fold(name));
    names[i] = name;
  };
  for (const [i, p] of paths.entries()) if (wanted[i] === basename(p, extname(p))) claim(i);
  for (const i of paths.keys()) if (names[i] === undefined) claim(i);
  return paths.map((path, i) => ({ path, name: names[i] as string }));
}

/** Why these slides' output folders would collide with each other or with the cohort's files; undefined if they do not. */
export function outputNameClash(slides: readonly SlideInput[]): string | undefined {
  const owner = new Map<string, string>(COHORT_FILES.map((f) => [f.toLowerCase(), `the cohort's ${f}`]));
  for (const s of slides) {
    const other = owner.get(s.name.toLowerCase());
    if (other !== undefined) return `${s.path}: its output folder '${s.name}' would overwrite ${other}`;
    owner.set(s.name.toLowerCase(), s.path);
  }
  return undefined;
}

/** Why a listed slide cannot be found (a dangling link says where it points). */
export function missingSlide(path: string): string {
  const link = lstatSync(path, { throwIfNoEntry: false });
  return link?.isSymbolicLink() === true
    ? `${path}: a symbolic link to ${readlinkSync(path)}, which does not exist`
    : `${path}: no such slide`;
}
