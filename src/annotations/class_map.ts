// Which annotation class is which mmfd class. A pathologist's classes have names (QuPath's "Villus", "Fibrin",
// "Region*", ...); a PMFT label layer has the reference's raw classes (data/classes.ts RAW_CLASSES). The map
// takes a name to a raw class, to 'region' (the area that is labelled: every pixel in it is either one of the
// classes or background), to 'ignore' (cut out of the labelled area: QuPath's built-in 'Ignore*' class) or to
// 'skip' (left out, as if not drawn). Names match ignoring case, spaces,
// underscores and hyphens, and QuPath's trailing '*' of its built-in classes. A YAML file adds to and
// overrides the defaults: one `name: target` a line, e.g. `Stem villus: stem`. For label images (label_image.ts)
// it may also say which class each pixel value or colour is, by name: `values: { 1: Villus, 2: Fibrin }` (QuPath's
// indexed label export; 0 is background) and `colours: { '#c80000': Villus }`.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { RAW_CLASSES } from '../data/classes.js';
import { AnnotationError } from './errors.js';

/** Raw classes an annotation can carry (not the computed 'other'), in RAW_CLASSES order: index = raw channel. */
export const TARGET_CLASSES = RAW_CLASSES.filter((c) => c.layer !== null).map((c) => c.name);

/** A raw class index (0-5), or what the annotation does instead. */
export type ClassTarget = number | 'region' | 'ignore' | 'skip';

/** mmfd's own GeoJSON names (data/classes.ts FINAL_CLASSES' display names) and common spellings. */
const DEFAULTS: Record<string, readonly string[]> = {
  villi: ['Villus', 'villi', 'villous', 'villit', 'terminal villus', 'intermediate villus', 'chorionic villus', 'chorionic villi'],
  villiu: ['villiu', 'immature villus', 'immature villi', 'oedematous villus', 'edematous villus'],
  stem: ['stem', 'stem villus', 'stem villi'],
  thrombus: ['Fibrin Deposit', 'fibrin', 'fibrinoid', 'fibrin deposition', 'perivillous fibrin', 'thrombus', 'intervillous thrombus'],
  bloodvessel: ['Capillary', 'capillaries', 'blood vessel', 'bloodvessel', 'vessel', 'fetal vessel'],
  cellgroup: ['Trophoblast Aggregation', 'trophoblast aggregate', 'cellgroup', 'syncytial knot', 'syncytial knots'],
  region: ['Region', 'ROI', 'region of interest', 'annotated region'],
  ignore: ['Ignore', 'exclude', 'excluded', 'artefact', 'artifact'],
};

/** The form names are compared in: lower case, runs of space, '_' and '-' as one space, QuPath's trailing '*' gone. */
export function normaliseClassName(name: string): string {
  return name
    .trim()
    .replace(/\*+$/, '')
    .toLowerCase()
    .replace(/[\s_-]+/g, ' ')
    .trim();
}

function targetOf(word: string): ClassTarget | undefined {
  if (word === 'region' || word === 'ignore' || word === 'skip') return word;
  const k = TARGET_CLASSES.indexOf(word);
  return k < 0 ? undefined : k;
}

export class ClassMap {
  readonly #map = new Map<string, ClassTarget>();
  /** Label image pixel value -> class name (`values:`), and packed RGB -> class name (`colours:`). */
  readonly values = new Map<number, string>();
  readonly colours = new Map<number, string>();

  constructor(
    /** Where user entries came from (named in errors), or undefined for the defaults alone. */
    readonly file?: string,
  ) {
    for (const [target, names] of Object.entries(DEFAULTS)) for (const n of names) this.#map.set(normaliseClassName(n), targetOf(target)!);
  }

  /** The defaults, with the entries of a YAML file (`annotation class name: target`) added over them. */
  static load(file?: string): ClassMap {
    const map = new ClassMap(file);
    if (file === undefined) return map;
    let doc: unknown;
    try {
      doc = parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new AnnotationError(`${file}: cannot read the class map: ${(err as Error).message}`);
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new AnnotationError(`${file}: the class map must be a YAML mapping of annotation class names to mmfd classes`);
    }
    for (const [name, value] of Object.entries(doc)) {
      if (name === 'values' || name === 'colours') {
        map.#readSection(file, name, value);
        continue;
      }
      const target = typeof value === 'string' ? targetOf(value.trim().toLowerCase()) : undefined;
      if (target === undefined) {
        throw new AnnotationError(
          `${file}: class '${name}' maps to ${JSON.stringify(value)}; it must be one of ${[...TARGET_CLASSES, 'region', 'ignore', 'skip'].join(', ')}`,
        );
      }
      map.#map.set(normaliseClassName(name), target);
    }
    return map;
  }

  /** `values:` (whole numbers 0-255 to names) or `colours:` ('#rrggbb' to names). */
  #readSection(file: string, section: 'values' | 'colours', entries: unknown): void {
    if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) {
      throw new AnnotationError(
        `${file}: '${section}' must be a mapping of label ${section === 'values' ? 'values' : 'colours'} to class names`,
      );
    }
    for (const [key, name] of Object.entries(entries)) {
      const hex = /^#?([0-9a-f]{6})$/i.exec(key.trim());
      const code = section === 'values' ? (/^\d+$/.test(key) ? Number(key) : Number.NaN) : hex ? Number.parseInt(hex[1]!, 16) : Number.NaN;
      if (!(code >= 0 && code <= (section === 'values' ? 255 : 0xffffff)) || typeof name !== 'string') {
        throw new AnnotationError(
          `${file}: ${section}.${key}: ${section === 'values' ? 'a pixel value 0-255' : "a colour '#rrggbb'"} must map to a class name (got ${JSON.stringify(name)})`,
        );
      }
      (section === 'values' ? this.values : this.colours).set(code, name);
    }
  }

  /** What an annotation class means; undefined when the map does not know it. */
  lookup(name: string): ClassTarget | undefined {
    return this.#map.get(normaliseClassName(name));
  }
}
