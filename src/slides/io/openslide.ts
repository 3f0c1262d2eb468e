// Whole slides through OpenSlide (Aperio SVS, Hamamatsu NDPI, MIRAX, Leica SCN, generic tiled TIFF, ...).
// All validation is here; native/src/openslide.cc only marshals.
import { existsSync, statSync } from 'node:fs';
import { type Handle, native } from '../../torch/native.js';

export interface SlideLevel {
  width: number;
  height: number;
  /** Level-0 pixels per pixel of this level. */
  downsample: number;
}

export class SlideError extends Error {}

export class OpenSlide {
  readonly levels: readonly SlideLevel[];
  readonly properties: Readonly<Record<string, string>>;
  readonly vendor: string;
  #handle: Handle | undefined;

  private constructor(
    readonly path: string,
    handle: Handle,
    vendor: string,
  ) {
    this.#handle = handle;
    this.vendor = vendor;
    this.levels = native.openslide.levels(handle).map(([width, height, downsample]) => ({ width, height, downsample }));
    const props: Record<string, string> = {};
    for (const [k, v] of Object.entries(native.openslide.properties(handle))) if (v !== null) props[k] = v;
    this.properties = props;
  }

  /** Opens a slide; a missing, unsupported or damaged file is an error naming it and the problem. */
  static open(path: string): OpenSlide {
    if (!existsSync(path)) throw new SlideError(`${path}: no such file`);
    if (!statSync(path).isFile() && !path.endsWith('.mrxs')) throw new SlideError(`${path}: not a file`);
    const vendor = native.openslide.detectVendor(path);
    if (vendor === null) throw new SlideError(`${path}: not a slide format OpenSlide can read`);
    let handle: Handle;
    try {
      handle = native.openslide.open(path);
    } catch (err) {
      throw new SlideError(`${path}: OpenSlide cannot open it: ${(err as Error).message}`);
    }
    return new OpenSlide(path, handle, vendor);
  }

  get handle(): Handle {
    if (this.#handle === undefined) throw new SlideError(`${this.path}: the slide was closed`);
    return this.#handle;
  }

  get dimensions(): [number, number] {
    const l0 = this.levels[0] as SlideLevel;
    return [l0.width, l0.height];
  }

  /** Microns per pixel at level 0 from the slide's metadata, or undefined when it records none:
   *  OpenSlide's openslide.mpp-x/y, which it fills from the vendor's own field (aperio.MPP,
   *  philips.DICOM_PIXEL_SPACING, ...), else the TIFF resolution tags (OpenSlide 3.4 reports those for
   *  generic TIFFs without converting them). */
  get mpp(): { x: number; y: number } | undefined {
    const p = this.properties;
    const valid = (x: number, y: number) => (Number.isFinite(x) && x > 0 && Number.isFinite(y) && y > 0 ? { x, y } : undefined);
    const fromOpenSlide = valid(Number(p['openslide.mpp-x']), Number(p['openslide.mpp-y']));
    if (fromOpenSlide) return fromOpenSlide;
    const micronsPerUnit = { centimeter: 1e4, inch: 25400 }[p['tiff.ResolutionUnit'] ?? ''];
    if (micronsPerUnit === undefined) return undefined;
    return valid(micronsPerUnit / Number(p['tiff.XResolution']), micronsPerUnit / Number(p['tiff.YResolution']));
  }

  /** RGBA pixels of a w x h region of `level` whose top-left is (x, y) in level-0 coordinates. */
  readRegion(x: number, y: number, level: number, w: number, h: number): Uint8Array {
    if (!Number.isInteger(level) || level < 0 || level >= this.levels.length) {
      throw new SlideError(`${this.path}: level ${level} out of range (0..${this.levels.length - 1})`);
    }
    if (![x, y, w, h].every(Number.isInteger) || w <= 0 || h <= 0) throw new SlideError(`${this.path}: invalid region ${x},${y} ${w}x${h}`);
    try {
      return native.openslide.readRegion(this.handle, x, y, level, w, h);
    } catch (err) {
      throw new SlideError(`${this.path}: reading ${w}x${h} at (${x}, ${y}) level ${level} failed: ${(err as Error).message}`);
    }
  }

  /** Names and sizes of the associated images (label, macro, thumbnail, ...). */
  associatedImages(): Record<string, [number, number]> {
    return native.openslide.associatedImages(this.handle);
  }

  readAssociatedImage(name: string): { rgba: Uint8Array; width: number; height: number } {
    const dims = this.associatedImages()[name];
    if (dims === undefined) throw new SlideError(`${this.path}: no associated image '${name}'`);
    return { rgba: native.openslide.readAssociatedImage(this.handle, name), width: dims[0], height: dims[1] };
  }

  close(): void {
    if (this.#handle !== undefined) native.openslide.close(this.#handle);
    this.#handle = undefined;
  }
}

export function openslideVersion(): string {
  return native.openslide.version();
}
