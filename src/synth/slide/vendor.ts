// How a synthetic slide imitates a vendor's file layout, so that OpenSlide opens it with that vendor's driver
// and mmfd reads its pixel size from the vendor's own field, as with a real scan:
// - 'tiff': a generic tiled TIFF, the mpp in the TIFF resolution tags.
// - 'svs': Aperio SVS, JPEG tiles and an ImageDescription that starts with "Aperio" and carries `|MPP = ...|`
//   and `|AppMag = ...|` (OpenSlide's aperio driver: aperio.MPP becomes openslide.mpp-x/y); no resolution tags.
// - 'philips': Philips TIFF, Software starting with "Philips" and an XML ImageDescription whose root is
//   DataObject ObjectType="DPUfsImport", with DICOM_PIXEL_SPACING (mm, rows then columns) for the image and one
//   PixelDataRepresentation per pyramid level (OpenSlide's philips driver takes the downsamples from these);
//   no resolution tags.
import type { PyramidalTiffOptions } from '../../slides/export/tiff_writer.js';

export const SLIDE_FORMATS = ['tiff', 'svs', 'philips'] as const;
export type SlideFormat = (typeof SLIDE_FORMATS)[number];

/** The file name endings each format is written under. */
export const FORMAT_EXTENSIONS: Record<SlideFormat, RegExp> = { tiff: /\.tiff?$/i, svs: /\.svs$/i, philips: /\.tiff?$/i };

/** Objective magnification a scanner reports for a pixel size: 10 um / mpp (20x at 0.5 um/px), as Aperio's do. */
const appMag = (mpp: number) => Math.round((10 / mpp) * 100) / 100;

/**
 * The writer options that make the slide's level 0 look like `format`: tags, description and, for SVS, JPEG.
 * `levels` is the number of pyramid levels the writer will write (Philips lists each one).
 */
export function vendorLayout(
  format: SlideFormat,
  o: { width: number; height: number; mpp: number; levels: number; note: string },
): Pick<PyramidalTiffOptions, 'mpp' | 'description' | 'software' | 'compression'> {
  if (format === 'tiff') return { mpp: o.mpp, description: o.note };
  if (format === 'svs') {
    return {
      compression: 'jpeg',
      description: `Aperio Image Library (layout written by mmfd)\r\n${o.width}x${o.height} (256x256) JPEG/RGB|AppMag = ${appMag(o.mpp)}|MPP = ${o.mpp}|Comment = ${o.note}`,
    };
  }
  const spacing = (k: number) => `&quot;${(o.mpp * 2 ** k) / 1000}&quot; &quot;${(o.mpp * 2 ** k) / 1000}&quot;`;
  const attribute = (name: string, value: string) => `<Attribute Name="${name}">${value}</Attribute>`;
  const levels = Array.from(
    { length: o.levels },
    (_, k) =>
      `<DataObject ObjectType="PixelDataRepresentation">${attribute('PIIM_PIXEL_DATA_REPRESENTATION_NUMBER', String(k))}${attribute('DICOM_PIXEL_SPACING', spacing(k))}</DataObject>`,
  ).join('');
  const wsi = `<DataObject ObjectType="DPScannedImage">${attribute('PIM_DP_IMAGE_TYPE', 'WSI')}${attribute('DICOM_PIXEL_SPACING', spacing(0))}<Attribute Name="PIIM_PIXEL_DATA_REPRESENTATION_SEQUENCE"><Array>${levels}</Array></Attribute></DataObject>`;
  return {
    software: 'Philips TIFF layout (written by mmfd)',
    description: `<?xml version="1.0" encoding="UTF-8" ?><DataObject ObjectType="DPUfsImport">${attribute('DICOM_MANUFACTURER', 'mmfd synthetic')}${attribute('DICOM_IMAGE_COMMENTS', o.note)}<Attribute Name="PIM_DP_SCANNED_IMAGES"><Array>${wsi}</Array></Attribute></DataObject>`,
  };
}
