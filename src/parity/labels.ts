// labels: one sample in the on-disk layout, decoded as the reference's generate_sem_mask and the
// image pipeline (spec §7.2-7.3) through mmfd's own dataset reader, at the fixture's target size.
// The fixture holds unknown colours on purpose, so colours are decoded the reference's way
// ('ignore'); datasets reject them. If sharp's JPEG pixels differ from the reference decoder's,
// the image path starts from the stored decoded pixels instead (fixtures README) and a check says so.
import { join } from 'node:path';
import { decodeRgb } from '../data/images.js';
import { decodeSample, PmftDataset } from '../data/pmft.js';
import { finalMask, imageTensor, rawMaskTensor, resizeBilinear, type Size } from '../data/sem_mask.js';
import * as torch from '../torch/index.js';
import { absolute, EXACT, type ExtraCheck, type Fixture, type KindResult, maxDiff } from './check.js';

/** README: labels within 1e-6 absolute. */
const LABELS = absolute(1e-6);

export async function run(f: Fixture): Promise<KindResult> {
  const dataset = PmftDataset.open(join(f.dir, 'dataset'));
  const name = String(f.config.sample_name);
  const size = f.config.tar_size as Size;
  const files = dataset.files(name, join(dataset.root, 'sample_list.csv'));
  const decoded = await decodeSample(files, dataset.cls2clr, dataset.metaInfo, 'ignore');
  const { width, height } = decoded.image;
  const checks: ExtraCheck[] = [];
  const expected = Object.entries(f.config.cls2clr as Record<string, number>);
  const sameTable = expected.length === dataset.cls2clr.size && expected.every(([k, v]) => dataset.cls2clr.get(k) === v);
  checks.push({ name: 'meta_info.json cls2clr', ok: sameTable, detail: `${dataset.cls2clr.size} classes read, as config.json lists` });

  const stored = f.outputs.get('decoded_jpeg_rgb_u8');
  if (stored === undefined) throw new Error(`${f.dir}: outputs.safetensors has no decoded_jpeg_rgb_u8`);
  const ours = torch.fromTypedArray(decoded.image.data, [height, width, 3], { dtype: 'uint8' });
  const jpegDiff = maxDiff(ours, stored);
  const sameJpeg = jpegDiff === 0;
  checks.push({
    name: 'JPEG decoding',
    ok: true,
    detail: sameJpeg
      ? "sharp's pixels equal the reference decoder's; image compared from mmfd's own decoding"
      : `sharp's pixels differ from the reference decoder's by up to ${jpegDiff} levels; image compared from the stored decoded pixels`,
  });
  const imagePixels = sameJpeg ? decoded.image : { data: stored.toTypedArray() as Uint8Array, width, height };

  for (const layer of ['seml0', 'seml1'] as const) {
    const input = f.inputs.get(`${layer}_rgb_u8`);
    const pixels = (await decodeRgb(files[layer])).data;
    const diff =
      input === undefined ? Number.NaN : torch.tidy(() => maxDiff(torch.fromTypedArray(pixels, input.shape, { dtype: 'uint8' }), input));
    checks.push({
      name: `${layer} PNG decoding`,
      ok: diff === 0,
      detail: `max difference ${diff} from the stored layer pixels (must be exact)`,
    });
  }

  const outputs = torch.tidy(() => {
    const raw = rawMaskTensor(decoded.mask, height, width);
    const rawResized = resizeBilinear(raw, size);
    const fused = finalMask(rawResized);
    const native = imageTensor(imagePixels);
    return new Map([
      ['decoded_jpeg_rgb_u8', ours],
      ['raw_mask_7ch_native', raw],
      ['raw_mask_7ch_resized', rawResized],
      ['fused_mask_4ch_before_second_resize', fused],
      ['sem_mask', resizeBilinear(fused, size)],
      ['image_chw_native_float', native],
      ['image', resizeBilinear(native, size)],
    ]);
  });
  // Another JPEG decoder may differ by a few levels (README); the image path then uses the stored pixels.
  return { outputs, checks, tolerance: (n) => (n === 'decoded_jpeg_rgb_u8' ? (sameJpeg ? EXACT : absolute(8)) : LABELS) };
}
