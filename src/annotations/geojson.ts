// QuPath's GeoJSON export (File > Export objects as GeoJSON, 0.2 to 0.5, and mmfd's own writer, slides/export/
// geojson.ts) read as annotations: a FeatureCollection, a bare array of Features (QuPath 0.2's default) or one
// Feature; Polygon and MultiPolygon geometries with holes, in level-0 pixels. The class is
// `properties.classification`: `{ "name": ..., "color": [r, g, b] }` (0.4+), `{ "name": ..., "colorRGB": n }`
// (0.2-0.3), `{ "names": [...] }` (a derived class, 0.4+, read as QuPath shows it, "A: B") or a plain string
// (scripts of QuPath 0.1's time). Points and lines label no pixels and are skipped with a note.
import { readFileSync } from 'node:fs';
import { AnnotationError } from './errors.js';
import { cleanRing, type Polygon, polygonArea, selfIntersection } from './geometry.js';

export interface Annotation {
  /** Its position in the file (0-based), as errors name it. */
  feature: number;
  /** The feature's id (QuPath 0.4+ writes a UUID), when it has one. */
  id?: string;
  /** Its class name as written; null when unclassified. */
  className: string | null;
  polygons: Polygon[];
}

/** How errors name a feature: `feature 3 (id 1b2c..., class 'Villus')`. */
export function describeFeature(a: Pick<Annotation, 'feature' | 'id' | 'className'>): string {
  const parts = [a.id === undefined ? '' : `id ${a.id}`, a.className === null ? 'unclassified' : `class '${a.className}'`];
  return `feature ${a.feature} (${parts.filter((p) => p !== '').join(', ')})`;
}

function className(properties: unknown): string | null {
  const c = (properties as { classification?: unknown } | null | undefined)?.classification;
  if (typeof c === 'string') return c.trim() === '' ? null : c;
  if (c === null || typeof c !== 'object') return null;
  const { name, names } = c as { name?: unknown; names?: unknown };
  if (typeof name === 'string' && name.trim() !== '') return name;
  if (Array.isArray(names) && names.length > 0 && names.every((n) => typeof n === 'string')) return names.join(': ');
  return null;
}

type Position = readonly [number, number];

function ringsOf(coords: unknown, where: () => string): Position[][] {
  if (!Array.isArray(coords) || coords.length === 0) throw new AnnotationError(`${where()}: a polygon with no rings (empty coordinates)`);
  return coords.map((ring, r) => {
    if (!Array.isArray(ring)) throw new AnnotationError(`${where()}: ring ${r} is not a list of positions`);
    return ring.map((p: unknown) => {
      if (!Array.isArray(p) || p.length < 2 || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
        throw new AnnotationError(`${where()}: ring ${r} holds ${JSON.stringify(p)}, not an [x, y] position`);
      }
      return [p[0] as number, p[1] as number] as const;
    });
  });
}

/** Polygons of a geometry; null for geometry without area (points, lines). */
function polygonsOf(geometry: unknown, where: () => string): Position[][][] | null {
  const g = geometry as { type?: unknown; coordinates?: unknown; geometries?: unknown } | null;
  if (g === null || typeof g !== 'object') throw new AnnotationError(`${where()}: no geometry`);
  switch (g.type) {
    case 'Polygon':
      return [ringsOf(g.coordinates, where)];
    case 'MultiPolygon':
      if (!Array.isArray(g.coordinates) || g.coordinates.length === 0) throw new AnnotationError(`${where()}: an empty MultiPolygon`);
      return g.coordinates.map((p) => ringsOf(p, where));
    case 'GeometryCollection': {
      if (!Array.isArray(g.geometries)) throw new AnnotationError(`${where()}: a GeometryCollection without geometries`);
      const parts = g.geometries.map((x) => polygonsOf(x, where)).filter((p) => p !== null);
      return parts.length === 0 ? null : parts.flat();
    }
    case 'Point':
    case 'MultiPoint':
    case 'LineString':
    case 'MultiLineString':
      return null;
    default:
      throw new AnnotationError(`${where()}: geometry type ${JSON.stringify(g.type)} is not GeoJSON`);
  }
}

/**
 * The annotations of a GeoJSON file, each polygon checked: at least three distinct points per ring, no ring
 * crossing or touching itself, a non-zero area. `onNote` hears about skipped features.
 */
export function readGeoJson(file: string, onNote: (line: string) => void = () => {}): Annotation[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new AnnotationError(`${file}: cannot read it as GeoJSON: ${(err as Error).message}`);
  }
  const d = doc as { type?: unknown; features?: unknown } | null;
  let features: unknown[];
  if (Array.isArray(doc)) features = doc;
  else if (d?.type === 'FeatureCollection' && Array.isArray(d.features)) features = d.features;
  else if (d?.type === 'Feature') features = [doc];
  else throw new AnnotationError(`${file}: not a GeoJSON FeatureCollection, Feature or list of Features`);
  const out: Annotation[] = [];
  features.forEach((f, feature) => {
    const ft = f as { type?: unknown; id?: unknown; geometry?: unknown; properties?: unknown } | null;
    if (ft === null || typeof ft !== 'object' || ft.type !== 'Feature') {
      throw new AnnotationError(`${file}: feature ${feature} is not a GeoJSON Feature`);
    }
    const id = typeof ft.id === 'string' || typeof ft.id === 'number' ? String(ft.id) : undefined;
    const base = { feature, ...(id === undefined ? {} : { id }), className: className(ft.properties) };
    const where = () => `${file}: ${describeFeature(base)}`;
    const parts = polygonsOf(ft.geometry, where);
    if (parts === null) {
      onNote(`${where()}: skipped (a point or line labels no pixels)`);
      return;
    }
    const polygons = parts.map((rings, p) => {
      const polygon: Polygon = {
        rings: rings.map((positions, r) => {
          const ring = cleanRing(positions);
          if (ring.length < 6) throw new AnnotationError(`${where()}: polygon ${p} ring ${r} has fewer than 3 distinct points`);
          const at = selfIntersection(ring);
          if (at !== undefined) {
            throw new AnnotationError(
              `${where()}: polygon ${p} ring ${r} crosses or touches itself near (${at[0]}, ${at[1]}); refused, since which side ` +
                'is inside is ambiguous: fix it in QuPath (e.g. redraw it, or Objects > Annotations > Split annotations) and export again',
            );
          }
          return ring;
        }),
      };
      if (!(polygonArea(polygon) > 0)) throw new AnnotationError(`${where()}: polygon ${p} encloses no area (an empty region)`);
      return polygon;
    });
    out.push({ ...base, polygons });
  });
  return out;
}
