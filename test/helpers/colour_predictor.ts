// A stand-in predictor whose answer is a fixed function of each pixel's colour, so segmentations of the same
// pixels are equal and of slightly different pixels (JPEG) close: four classes from 1 - G, R, B and a constant
// 0.3 (never set), on 64-pixel tiles at 1.0 um/px.
import type { Predictor } from '../../src/slides/pipeline/predictor.js';
import * as torch from '../../src/torch/index.js';

export const colourPredictor: Predictor = {
  tileSize: 64,
  classes: ['villit', 'thrombus', 'bloodvessel', 'cellgroup'],
  inputMpp: 1.0,
  id: 'colour',
  predict: (batch) =>
    torch.tidy(() => {
      const [r, g, b] = [0, 1, 2].map((c) => batch.narrow(1, c, 1)) as [torch.Tensor, torch.Tensor, torch.Tensor];
      return torch.cat([g.neg().add(1), r, b, r.mul(0).add(0.3)], 1);
    }),
  dispose() {},
};
