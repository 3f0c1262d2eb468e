// Images with known pixels for the pyramidal TIFF tests, and writing one through the writer band by band.
import { type PyramidalTiffOptions, PyramidalTiffWriter } from '../../src/slides/export/tiff_writer.js';

export interface Image {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

/** A pattern in which every pixel differs from its neighbours, so a misplaced tile or row shows. */
export function pattern(width: number, height: number, channels: number): Image {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = (x * 7 + y * 13 + c * 101 + ((x * y) >> 3)) & 255;
    }
  }
  return { width, height, channels, data };
}

/** Writes `image` band by band, as a caller streaming a slide would. */
export async function writeImage(path: string, image: Image, options: Partial<PyramidalTiffOptions> = {}): Promise<PyramidalTiffWriter> {
  const writer = await PyramidalTiffWriter.create(path, {
    width: image.width,
    height: image.height,
    channels: image.channels as 1 | 3,
    ...options,
  });
  const rowBytes = image.width * image.channels;
  for (let y = 0; writer.nextBandRows > 0; ) {
    const rows = writer.nextBandRows;
    await writer.writeBand(image.data.slice(y * rowBytes, (y + rows) * rowBytes));
    y += rows;
  }
  await writer.close();
  return writer;
}
