// One whole slide as library users see it (`import { slides } from 'mmfd'`): reading, segmenting, and
// what is made from a label map (measurements, GeoJSON, overlay views, agreement with a truth).

export { CLASS_BITS, TISSUE_BIT } from '../data/classes.js';
export { compareLabels, type LabelAgreement } from './export/compare_labels.js';
export { writeOverlayViews } from './export/deepzoom.js';
export { writeGeoJson } from './export/geojson.js';
export { measureSlide, type SlideMeasurements } from './export/measure.js';
export { PyramidalTiffWriter } from './export/tiff_writer.js';
export { openLabelTiff } from './io/label_raster.js';
export { OpenSlide } from './io/openslide.js';
export { type GridSize, recordedGrid } from './io/raster_grid.js';
export { type Engine, type EngineChoice, openPredictor, type Precision } from './pipeline/onnx_predictor.js';
export { loadPredictor, type ModelChoice, networkPredictor, type Predictor, type TensorPredictor } from './pipeline/predictor.js';
export { type SegmentOptions, type SegmentResult, segmentSlide } from './pipeline/segment.js';
export { type ImageSegmentation, segmentImage } from './pipeline/segment_image.js';
export { detectTissue, slideTissueMask, type TissueMask, type TissueOptions } from './pipeline/tissue.js';
