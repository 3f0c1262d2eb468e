// The cohort runner's SlideSegmenter for real networks: the model loaded by predictor.ts, run over each
// slide by segment.ts (which resumes an interrupted slide from `<labels>.partial/` by itself).
import { createHash } from 'node:crypto';
import { type Engine, type EngineChoice, openPredictor, type Precision } from '../slides/pipeline/onnx_predictor.js';
import type { Predictor } from '../slides/pipeline/predictor.js';
import { segmentSlide } from '../slides/pipeline/segment.js';
import { fileSha256 } from './manifest.js';
import type { SlideSegmenter } from './run.js';

export interface ModelSelection {
  model: 'student' | 'teacher';
  /** Trained weights; without them the model's config names its weights (loadPredictor). */
  checkpoint: string | null;
  /** Default: the faster engine installed (onnx_predictor.ts). */
  engine?: Engine;
  precision?: Precision;
}

/**
 * Loads the model once for the whole cohort. Its resume hash is the SHA-256 of the checkpoint file; with no
 * checkpoint given it is the SHA-256 of the model's id (kind and weights file name), the most that is known
 * of the config's default weights here. `load` is onnx_predictor.ts's openPredictor, or a stand-in in tests.
 */
export async function networkSegmenter(
  selection: ModelSelection,
  load: (choice: EngineChoice) => Predictor | Promise<Predictor> = openPredictor,
): Promise<SlideSegmenter & { dispose(): void }> {
  let predictor: Predictor;
  try {
    predictor = await load({
      model: selection.model,
      weights: selection.checkpoint ?? undefined,
      engine: selection.engine,
      precision: selection.precision,
    });
  } catch (err) {
    throw new Error(
      `cannot load the ${selection.model}${selection.checkpoint === null ? ' (give its weights with --checkpoint)' : ''}: ${(err as Error).message}`,
    );
  }
  const sha256 =
    selection.checkpoint === null
      ? createHash('sha256').update(predictor.id).digest('hex')
      : (await fileSha256(selection.checkpoint)).sha256;
  return {
    id: predictor.id,
    sha256,
    async segment(request) {
      const result = await segmentSlide(request.slide, predictor, {
        out: request.labels,
        mpp: request.mpp,
        allowUpsample: request.allowUpsample,
        signal: request.signal,
        onProgress: (p) => request.onProgress?.(p.tilesDone, Math.max(1, p.tilesTotal)),
      });
      return { slideMpp: result.mpp.slide, labelMpp: result.mpp.used };
    },
    dispose: () => predictor.dispose(),
  };
}
