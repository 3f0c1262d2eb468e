// Decoding image files to 8-bit RGB pixels with sharp, read the way the reference's cv2.imread
// (IMREAD_COLOR) reads them: EXIF orientation applied, embedded ICC profiles not applied, alpha
// dropped, grey expanded to RGB. No torch here: worker threads run this.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { DataError } from './errors.js';

const NO_DETAIL = 'Warning treated as error due to failOn setting';
const SHARP = createRequire(import.meta.url).resolve('sharp');
const DECODE_ALONE = `require(process.argv[1])(process.argv[2], { failOn: 'warning' }).raw().toBuffer().then(() => {}, (e) => process.stdout.write(e.message))`;

/**
 * sharp keeps libvips' warnings in one queue per process, so while several threads decode (the loader's
 * workers), the warning that says what is wrong with a file can go to another thread's decode, leaving
 * only NO_DETAIL. The file is then decoded once more in a process of its own, where the cause stays put.
 */
function causeOf(file: string, message: string): string {
  // Lines repeat when a warning of another decode of the same file lands here too.
  if (!message.startsWith(NO_DETAIL)) return [...new Set(message.split('\n'))].join('; ');
  const alone = spawnSync(process.execPath, ['-e', DECODE_ALONE, SHARP, file], { encoding: 'utf8', timeout: 60_000 });
  const cause = alone.stdout?.trim() ?? '';
  return cause !== '' ? cause : 'corrupt image data (libvips warned while decoding it)';
}

/** Interleaved RGB pixels, row-major: data[(y * width + x) * 3 + c]. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Reads `file` (JPEG, PNG, ...) to RGB; an unreadable, truncated or corrupt file is a DataError naming it. */
export async function decodeRgb(file: string): Promise<RgbImage> {
  let decoded: { data: Buffer; info: sharp.OutputInfo };
  try {
    // failOn 'warning': a truncated JPEG or PNG is an error, not a silently grey-filled image.
    decoded = await sharp(file, { failOn: 'warning' }).autoOrient().keepIccProfile().raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new DataError(`${file}: cannot decode image: ${causeOf(file, (err as Error).message)}`);
  }
  const { data, info } = decoded;
  const depth = (info as sharp.OutputInfo & { depth?: string }).depth; // present at run time, missing from sharp's types
  if (depth !== 'uchar') throw new DataError(`${file}: ${depth} samples are not supported (8-bit images only)`);
  return { data: toRgb(data, info.channels, file), width: info.width, height: info.height };
}

function toRgb(data: Buffer, channels: number, file: string): Uint8Array {
  if (channels === 3) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const n = data.length / channels;
  const out = new Uint8Array(n * 3);
  if (channels === 1 || channels === 2) {
    for (let i = 0; i < n; i++) out.fill(data[i * channels] as number, i * 3, i * 3 + 3);
  } else if (channels === 4) {
    for (let i = 0; i < n; i++) {
      out[i * 3] = data[i * 4] as number;
      out[i * 3 + 1] = data[i * 4 + 1] as number;
      out[i * 3 + 2] = data[i * 4 + 2] as number;
    }
  } else {
    throw new DataError(`${file}: ${channels} channels are not supported (grey, grey+alpha, RGB or RGBA)`);
  }
  return out;
}
