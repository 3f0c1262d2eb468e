// `mmfd synth-slide --out <file.tif> --width W --height H --seed S [--mpp 0.5] [--tile-size 256] [--jpeg]`:
// a synthetic placenta whole slide (tiled pyramidal BigTIFF) with its label image and class table beside it.
import { progressCallback } from '../progress.js';
import { writeSyntheticSlide } from '../synth/slide/slide.js';
import { command } from './args.js';

export const { spec, run } = command(
  {
    name: 'synth-slide',
    options: {
      out: { type: 'string', value: '<file.tif>', required: true, help: 'the slide to write (labels and class table go beside it)' },
      width: { type: 'string', value: 'W', required: true, help: 'level-0 width in pixels' },
      height: { type: 'string', value: 'H', required: true, help: 'level-0 height in pixels' },
      seed: { type: 'string', value: 'S', required: true, help: 'random seed' },
      mpp: { type: 'string', value: '<um/px>', default: '0.5', help: 'level-0 pixel size' },
      'tile-size': { type: 'string', value: '<px>', default: '256', help: 'TIFF tile side' },
      jpeg: { type: 'boolean', help: 'JPEG tiles instead of deflate' },
    },
  },
  async (args) => {
    const result = await writeSyntheticSlide({
      out: args.required('out'),
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
