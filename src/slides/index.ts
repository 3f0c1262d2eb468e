// Whole slides as library users see it (`import { slides } from 'mmfd'`): reading, segmenting one slide or
// a cohort, and what is made from a label map (measurements, GeoJSON, overlay views, agreement with a truth).

export { CLASS_BITS, TISSUE_BIT } from '../data/classes.js';
export { type CohortOptions, runCohort, type SlideOutcome } from './cohort.js';
export { compareLabels, type LabelAgreement } from './compare_labels.js';
export { writeOverlayViews } from './deepzoom.js';
export { writeGeoJson } from './geojson.js';
export { openLabelTiff } from './label_raster.js';
export { measureSlide, type SlideMeasurements } from './measure.js';
export { type Engine, type EngineChoice, openPredictor, type Precision } from './onnx_predictor.js';
export { OpenSlide } from './openslide.js';
export { loadPredictor, type ModelChoice, networkPredictor, type Predictor, type TensorPredictor } from './predictor.js';
export { type SegmentOptions, type SegmentResult, segmentSlide } from './segment.js';
export { type ImageSegmentation, segmentImage } from './segment_image.js';
export { listSlides } from './slide_list.js';
export { PyramidalTiffWriter } from './tiff_writer.js';
export { detectTissue, slideTissueMask, type TissueMask, type TissueOptions } from './tissue.js';
