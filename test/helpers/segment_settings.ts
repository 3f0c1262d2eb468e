import type { SegmentSettings } from '../../src/cohort/manifest.js';

/** A cohort's settings as `mmfd segment` records them by default, with a small thumbnail for quick tests. */
export function testSettings(thumbnail_max: number): SegmentSettings {
  return { model: 'student', checkpoint: null, mpp: null, min_object_um2: 20, geojson_level: 0, overlay_level: 0, thumbnail_max };
}
