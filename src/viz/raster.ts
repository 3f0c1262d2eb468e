// Encoding pictures by their file extension and writing them atomically. PNG is lossless (use it when the
// pixels matter: composites, tests); JPEG matches what the reference saves.
import { extname } from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from '../data/images.js';
import { writeFileAtomic } from '../torch/io/files.js';

/** PIL's default JPEG quality: the reference saves with Image.save(path) and no options. */
export const REFERENCE_JPEG_QUALITY = 75;

/** A sharp pipeline over interleaved RGB pixels. */
export function rgbPipeline(img: RgbImage): sharp.Sharp {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
}

/** Runs the pipeline to interleaved RGB; an alpha channel (compositing an SVG adds one) must be opaque and is dropped. */
export async function opaqueRgb(pipeline: sharp.Sharp): Promise<RgbImage> {
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  if (channels === 3) return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height };
  if (channels !== 4) throw new Error(`opaqueRgb: expected 3 or 4 channels, got ${channels}`);
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    if (data[i * 4 + 3] !== 255) throw new Error('opaqueRgb: the picture has transparent pixels');
    rgb.set(data.subarray(i * 4, i * 4 + 3), i * 3);
  }
  return { data: rgb, width, height };
}

/** Encodes the pipeline as PNG or JPEG, chosen by path's extension, and writes it atomically. */
export async function writeRaster(path: string, pipeline: sharp.Sharp, jpegQuality = REFERENCE_JPEG_QUALITY): Promise<void> {
  const ext = extname(path).toLowerCase();
  let encoded: sharp.Sharp;
  if (ext === '.png') encoded = pipeline.png();
  else if (ext === '.jpg' || ext === '.jpeg') encoded = pipeline.jpeg({ quality: jpegQuality, chromaSubsampling: '4:2:0' });
  else throw new Error(`${path}: cannot tell the image format from '${ext}' (use .png, .jpg or .jpeg)`);
  await writeFileAtomic(path, await encoded.toBuffer());
}
