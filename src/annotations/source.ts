// A slide's annotations as patch cutting needs them, whatever file they came from (GeoJSON here, label images in
// label_image.ts): the regions to cut patches from, and for any patch grid how much of each pixel each raw class
// and the labelled area cover.
//
// What counts as labelled: the union of the 'Region' / 'ROI' annotations, or, when the file has none, the union of
// the class polygons, less the 'Ignore' annotations. Inside it a pixel is one of the classes or background; outside
// it nothing is known. (Ignore is taken off by sample counts, exact where it lies inside the labelled area and
// cautious, counting more as unlabelled, where it reaches beyond.)
import type { ClassMap, ClassTarget } from './class_map.js';
import { TARGET_CLASSES } from './class_map.js';
import { AnnotationError } from './errors.js';
import { type Annotation, describeFeature } from './geojson.js';
import { type Box, boxesOverlap, type Polygon, ringBox, unionBox } from './geometry.js';
import { coverage, type PatchGrid } from './rasterise.js';

export interface Shape {
  polygon: Polygon;
  box: Box;
}

export interface CutRegion {
  /** How messages name it (`<file>: feature 2 (class 'Region')`). */
  what: string;
  box: Box;
}

/** Per pixel of a patch grid: sample counts (of samplesPerAxis(step)² per pixel) inside each raw class and the labelled area. */
export interface Coverage {
  classes: Uint16Array[];
  labelled: Uint16Array;
}

export interface AnnotationSource {
  file: string;
  regions: CutRegion[];
  cover(grid: PatchGrid): Promise<Coverage>;
  /** Points inside or on raw class k, to centre extra patches on (--per-class-min). */
  anchors(k: number): [number, number][];
}

export interface SourceOptions {
  classMap: ClassMap;
  /** Leave features of classes the map does not know out, instead of refusing the file. */
  ignoreUnmapped: boolean;
  slideWidth: number;
  slideHeight: number;
  /** The slide, named in the other-slide error. */
  slide: string;
}

/** How far (level-0 pixels) a vertex may lie beyond the slide's edge: QuPath can place a brush stroke's edge there. */
const EDGE_TOLERANCE = 1;

/** The annotations of a GeoJSON file as a source: classes mapped, every feature checked against the slide. */
export function geoJsonSource(file: string, annotations: readonly Annotation[], o: SourceOptions): AnnotationSource {
  const classes: Shape[][] = TARGET_CLASSES.map(() => []);
  const regions: { what: string; shapes: Shape[] }[] = [];
  const ignored: Shape[] = [];
  const unmapped = new Map<string, number>();
  for (const a of annotations) {
    const what = `${file}: ${describeFeature(a)}`;
    const target: ClassTarget | undefined = a.className === null ? undefined : o.classMap.lookup(a.className);
    if (target === undefined) {
      const key = a.className ?? '(unclassified)';
      unmapped.set(key, (unmapped.get(key) ?? 0) + 1);
      continue;
    }
    if (target === 'skip') continue;
    const shapes = a.polygons.map((polygon) => ({ polygon, box: ringBox(polygon.rings[0]!) }));
    const box = unionBox(shapes.map((s) => s.box));
    if (
      box[0] < -EDGE_TOLERANCE ||
      box[1] < -EDGE_TOLERANCE ||
      box[2] > o.slideWidth + EDGE_TOLERANCE ||
      box[3] > o.slideHeight + EDGE_TOLERANCE
    ) {
      throw new AnnotationError(
        `${what}: reaches (${box[0]}, ${box[1]})-(${box[2]}, ${box[3]}), outside the slide ${o.slide} (${o.slideWidth} x ${o.slideHeight} pixels); ` +
          'were these annotations exported from another slide, or from an image at another scale?',
      );
    }
    if (target === 'region') regions.push({ what, shapes });
    else if (target === 'ignore') ignored.push(...shapes);
    else classes[target]!.push(...shapes);
  }
  if (unmapped.size > 0 && !o.ignoreUnmapped) {
    const list = [...unmapped].map(([name, n]) => `'${name}' (${n} feature${n === 1 ? '' : 's'})`).join(', ');
    throw new AnnotationError(
      `${file}: class${unmapped.size === 1 ? '' : 'es'} ${list} ${unmapped.size === 1 ? 'is' : 'are'} not in the class map${o.classMap.file ? ` ${o.classMap.file}` : ''}; ` +
        `map ${unmapped.size === 1 ? 'it' : 'them'} (--classes map.yaml: '<name>: ${TARGET_CLASSES.join('|')}|region|ignore|skip'), ` +
        "classify the labelled area as 'Region', or pass --ignore-unmapped to leave them out",
    );
  }
  const classShapes = classes.flat();
  if (classShapes.length === 0) throw new AnnotationError(`${file}: no annotation of any mmfd class (nothing to learn from)`);
  for (const r of regions) {
    const box = unionBox(r.shapes.map((s) => s.box));
    if (!classShapes.some((s) => boxesOverlap(s.box, box))) {
      throw new AnnotationError(
        `${r.what}: an empty region: no class annotation lies in it. Annotate its classes, or remove it (or classify it as something the map skips)`,
      );
    }
  }
  const labelled = regions.length > 0 ? regions.flatMap((r) => r.shapes) : classShapes;
  const cutRegions =
    regions.length > 0
      ? regions.map((r) => ({ what: r.what, box: unionBox(r.shapes.map((s) => s.box)) }))
      : [{ what: `${file}: the union of its class annotations (no 'Region' annotation)`, box: unionBox(classShapes.map((s) => s.box)) }];
  return {
    file,
    regions: cutRegions,
    async cover(grid) {
      const inside = coverage(labelled, grid);
      if (ignored.length > 0) {
        const off = coverage(ignored, grid);
        for (let i = 0; i < inside.length; i++) inside[i] = Math.max(0, inside[i]! - off[i]!);
      }
      return { classes: classes.map((shapes) => coverage(shapes, grid)), labelled: inside };
    },
    anchors: (k) => classes[k]!.map((s) => [s.polygon.rings[0]![0]!, s.polygon.rings[0]![1]!]),
  };
}
