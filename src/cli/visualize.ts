// `mmfd visualize --config <distill.yaml> --image <img> --checkpoint <ckpt> [--out <dir>]`: the
// reference's visualize_net.py (spec §1.4). The student (built from network_s.cfg_file) segments one
// image resized to img_size and writes <out>/result_dir/vis/<stem>_iter0.jpg as the reference does,
// plus <stem>_composite.png (original | prediction, with the tissue legend) and <out>/test_log/log.txt.
import { basename, join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../config/index.js';
import { decodeRgb } from '../data/images.js';
import { imageTensor, resizeBilinear } from '../data/sem_mask.js';
import { buildStudent } from '../models/build.js';
import * as torch from '../torch/index.js';
import { loadNamedConfig, num } from '../train/run_config.js';
import { loadStudentWeights } from '../train/stage2.js';
import { writeComposite } from '../viz/composite.js';
import { referenceStem, writeReferenceOverlay } from '../viz/overlay.js';
import { writeFileAtomic } from '../viz/write_atomic.js';
import { command } from './args.js';

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
    const cfg = loadConfig(values.config);
    const cfgS = loadNamedConfig(cfg, 'network_s.cfg_file', values.config);
    const out = values.out;
    await writeFileAtomic(join(out, 'test_log', 'log.txt'), `# mmfd visualize ${values.config}\n${stringify(cfg)}`);

    const student = buildStudent(cfgS);
    loadStudentWeights(student, values.checkpoint);
    student.eval();
    const original = await decodeRgb(values.image);
    const size = num(cfgS, 'img_size');
    // The reference resizes to the network size without keeping the aspect ratio (resize_my).
    const image = torch.tidy(() => resizeBilinear(imageTensor(original), [size, size]));
    const logits = torch.no_grad(() => torch.tidy(() => student.forward(image.unsqueeze(0), 'test').masks.squeeze(0)));
    const stem = referenceStem(values.image);
    const visDir = join(out, 'result_dir', 'vis');
    try {
      const overlay = await writeReferenceOverlay({ visDir, stem, image, maps: logits, logits: true });
      const composite = join(visDir, `${stem}_composite.png`);
      await writeComposite(composite, { image: original, prediction: logits, logits: true, heading: basename(values.image) });
      console.log(`${overlay}\n${composite}`);
    } finally {
      torch.dispose([image, logits]);
      student.dispose();
    }
    return 0;
  },
);
