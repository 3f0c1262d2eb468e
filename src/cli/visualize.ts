// `mmfd visualize --config <distill.yaml> --image <img> --checkpoint <ckpt> [--mpp <um/px>] [--out <dir>]`: the
// reference's visualize_net.py (spec §1.4) at the image's real scale. The student (built from
// network_s.cfg_file) segments one image resampled from its pixel size (--mpp, else the image's resolution
// metadata) to the checkpoint's input_mpp, in overlapping tiles of its input size when larger, as `mmfd segment`
// reads a slide; the reference resized any image to the input size, whatever its scale. Writes
// <out>/result_dir/vis/<stem>_iter0.jpg (the reference's overlay, at input_mpp), <stem>_composite.png
// (original | prediction at the image's own size, with the tissue legend) and <out>/test_log/log.txt.
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { stringify } from 'yaml';
import { loadConfig } from '../config/index.js';
import { decodeRgb } from '../data/images.js';
import { buildStudent } from '../models/build.js';
import { inputMppOf, resolveSlideMpp } from '../slides/io/mpp.js';
import { networkPredictor } from '../slides/pipeline/predictor.js';
import { segmentImage } from '../slides/pipeline/segment_image.js';
import * as torch from '../torch/index.js';
import { writeFileAtomic } from '../torch/io/files.js';
import { loadNamedConfig } from '../train/run_config.js';
import { loadStudentWeights } from '../train/stage2.js';
import { writeComposite } from '../viz/composite.js';
import { referenceStem, writeReferenceOverlay } from '../viz/overlay.js';
import { command } from './args.js';

/** Microns per pixel from an image's resolution tags (JPEG JFIF/EXIF, PNG pHYs, TIFF), if it has any. */
async function resolutionOf(path: string): Promise<{ x: number; y: number } | undefined> {
  const { density } = await sharp(path).metadata();
  return density !== undefined && density > 0 ? { x: 25400 / density, y: 25400 / density } : undefined;
}

export const { spec, run } = command(
  {
    name: 'visualize',
    options: {
      config: {
        type: 'string',
        value: '<distill.yaml>',
        required: true,
        help: "the distillation config (its network_s names the student's)",
      },
      image: { type: 'string', value: '<img>', required: true, help: 'the image to segment' },
      checkpoint: { type: 'string', value: '<ckpt>', required: true, help: "the student's trained weights" },
      mpp: { type: 'string', value: '<um/px>', help: "the image's pixel size (default: its resolution metadata)" },
      'allow-upsample': { type: 'boolean', help: "segment an image more than 2x coarser than the network's input (upsampled)" },
      out: { type: 'string', value: '<dir>', default: 'data/output', help: 'output folder' },
    },
  },
  async (args) => {
    const values = {
      config: args.required('config'),
      image: args.required('image'),
      checkpoint: args.required('checkpoint'),
      out: args.required('out'),
    };
    const override = args.number('mpp', { above: 0 });
    const cfg = loadConfig(values.config);
    const cfgS = loadNamedConfig(cfg, 'network_s', values.config);
    const out = values.out;
    const original = await decodeRgb(values.image);
    const mpp = resolveSlideMpp(values.image, await resolutionOf(values.image), override);
    await writeFileAtomic(join(out, 'test_log', 'log.txt'), `# mmfd visualize ${values.config}\n${stringify(cfg)}`);

    const student = buildStudent(cfgS);
    let predictor: ReturnType<typeof networkPredictor>;
    try {
      const meta = loadStudentWeights(student, values.checkpoint);
      const inputMpp = inputMppOf({ ...meta }, values.checkpoint);
      predictor = networkPredictor(student, { inputMpp, id: `student:${basename(values.checkpoint)}` });
    } catch (err) {
      student.dispose();
      throw err;
    }
    let seg: Awaited<ReturnType<typeof segmentImage>>;
    try {
      seg = await segmentImage(original, mpp.mpp, predictor, {
        name: values.image,
        mppSource: mpp.source,
        allowUpsample: args.flag('allow-upsample'),
      });
    } catch (err) {
      predictor.dispose();
      throw err;
    }
    const [C, h, w] = [predictor.classes.length, seg.height, seg.width];
    const image = torch.fromTypedArray(seg.image, [3, h, w]);
    const maps = torch.fromTypedArray(seg.probabilities, [C, h, w]);
    const stem = referenceStem(values.image);
    const visDir = join(out, 'result_dir', 'vis');
    try {
      const overlay = await writeReferenceOverlay({ visDir, stem, image, maps });
      const composite = join(visDir, `${stem}_composite.png`);
      await writeComposite(composite, { image: original, prediction: maps, heading: basename(values.image) });
      console.log(
        `${values.image}: ${original.width} x ${original.height} px at ${mpp.mpp} um/px (${mpp.source}), ` +
          `segmented at ${seg.plan.gridMpp} um/px: ${w} x ${h} px in ${seg.tiles} tile(s) of ${predictor.tileSize}`,
      );
      console.log(`${overlay}\n${composite}`);
    } finally {
      torch.dispose([image, maps]);
      predictor.dispose();
    }
    return 0;
  },
);
