// `mmfd synth-slide --out <file.tif> --width W --height H --seed S [--mpp 0.5] [--tile-size 256] [--jpeg]
//  [--format tiff|svs|philips]`: a synthetic placenta whole slide (tiled pyramidal BigTIFF; or in the Aperio SVS
// or Philips TIFF layout, synth/slide/vendor.ts) with its label image and class table beside it.
import { progressCallback } from '../progress.js';
import { writeSyntheticSlide } from '../synth/slide/slide.js';
import { SLIDE_FORMATS } from '../synth/slide/vendor.js';
import { command } from './args.js';

export const { spec, run } = command(
  {
    name: 'synth-slide',
    options: {
      out: {
        type: 'string',
        value: '<file.tif>',
        required: true,
        help: 'the slide to write, .svs for SVS (labels and class table go beside it)',
      },
      width: { type: 'string', value: 'W', required: true, help: 'level-0 width in pixels' },
      height: { type: 'string', value: 'H', required: true, help: 'level-0 height in pixels' },
      seed: { type: 'string', value: 'S', required: true, help: 'random seed' },
      mpp: { type: 'string', value: '<um/px>', default: '0.5', help: 'level-0 pixel size' },
      'tile-size': { type: 'string', value: '<px>', default: '256', help: 'TIFF tile side' },
      jpeg: { type: 'boolean', help: 'JPEG tiles instead of deflate (SVS is always JPEG)' },
      format: {
        type: 'string',
        value: SLIDE_FORMATS.join('|'),
        default: 'tiff',
        help: 'file layout: generic TIFF (mpp in resolution tags), Aperio SVS (.svs, MPP and AppMag in its description) or Philips TIFF (pixel spacing in its XML)',
      },
    },
  },
  async (args) => {
    const result = await writeSyntheticSlide({
      out: args.required('out'),
      format: args.choice('format', SLIDE_FORMATS),
      width: args.requiredNumber('width', { integer: true }),
      height: args.requiredNumber('height', { integer: true }),
      seed: args.requiredNumber('seed', { integer: true }),
      mpp: args.number('mpp', { above: 0 }) as number,
      tileSize: args.number('tile-size', { integer: true }) as number,
      compression: args.flag('jpeg') ? 'jpeg' : 'deflate',
      onProgress: progressCallback('synth-slide: band'),
    });
    console.log(`slide  ${result.slide}`);
    console.log(`labels ${result.labels} (bit flags, table in ${result.table})`);
    return 0;
  },
);
