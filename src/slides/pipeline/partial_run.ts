// The resumable state of one slide's segmentation, in `<out>.partial/`: what an interrupted run needs so that
// a rerun skips the tile rows already done.
//   rows.spool  the finished output rows so far, appended a tile row at a time as deflated chunks
//               ([u32 compressed bytes][u32 rows] then the planes one after another), so a resumed run can
//               replay them into fresh TIFF writers without running the model again;
//   carry-<k>.f32  the stitcher's carry (the blend of the overlap below tile row k - 1), written whole;
//   state.json  the run's key (slide, model and settings: any change means starting over), tile rows done,
//               and how many spool bytes belong to them. It is written last (temporary file, then rename),
//               and only after the spool is synced and the carry it names is in place, so whatever moment a
//               run dies at, state.json describes a consistent point; spool bytes past it are cut off.
import { existsSync } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deflateRaw, inflateRaw } from 'node:zlib';
import { writeFileAtomic } from '../../torch/io/files.js';

const deflateAsync = promisify(deflateRaw);
const inflateAsync = promisify(inflateRaw);

const FORMAT = 'mmfd-segment-partial';
const VERSION = 1;

export interface Checkpoint {
  /** Tile rows whose output rows are all in the spool and whose carry is saved. */
  tileRowsDone: number;
  /** Output rows in the spool. */
  rowsDone: number;
  /** Tiles run so far (for progress). */
  tilesDone: number;
}

interface StateFile extends Checkpoint {
  format: string;
  version: number;
  key: unknown;
  spoolBytes: number;
  carry: string | null;
}

export class PartialRun {
  readonly dir: string;
  readonly #key: unknown;
  #spool: FileHandle | undefined;
  #spoolBytes = 0;
  #carry: string | null = null;

  private constructor(dir: string, key: unknown) {
    this.dir = dir;
    this.#key = key;
  }

  /**
   * Opens `dir` for a run described by `key` (any JSON value). With `resume`, a state there with the same key
   * is returned as the point to go on from; anything else there is deleted and the run starts from nothing.
   */
  static async open(
    dir: string,
    key: unknown,
    resume: boolean,
  ): Promise<{ run: PartialRun; resumed: Checkpoint | undefined; discarded: string | undefined }> {
    const run = new PartialRun(dir, key);
    const state = resume ? await run.#readState() : undefined;
    if (state === undefined || JSON.stringify(state.key) !== JSON.stringify(key)) {
      const discarded = !existsSync(dir)
        ? undefined
        : !resume
          ? 'resume is off'
          : state === undefined
            ? 'it holds no usable state'
            : 'the slide, model or settings changed since it was written';
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      run.#spool = await open(join(dir, 'rows.spool'), 'w');
      return { run, resumed: undefined, discarded };
    }
    run.#spool = await open(join(dir, 'rows.spool'), 'r+');
    await run.#spool.truncate(state.spoolBytes);
    run.#spoolBytes = state.spoolBytes;
    run.#carry = state.carry;
    return {
      run,
      resumed: { tileRowsDone: state.tileRowsDone, rowsDone: state.rowsDone, tilesDone: state.tilesDone },
      discarded: undefined,
    };
  }

  async #readState(): Promise<StateFile | undefined> {
    const path = join(this.dir, 'state.json');
    if (!existsSync(path)) return undefined;
    try {
      const state = JSON.parse(await readFile(path, 'utf8')) as StateFile;
      if (state.format !== FORMAT || state.version !== VERSION) return undefined;
      if (state.carry !== null && !existsSync(join(this.dir, state.carry))) return undefined;
      if (!existsSync(join(this.dir, 'rows.spool'))) return undefined;
      return state;
    } catch {
      return undefined;
    }
  }

  /** Appends finished output rows: `planes` each `rows` x width bytes. */
  async appendRows(planes: readonly Uint8Array[], rows: number): Promise<void> {
    const payload = await deflateAsync(Buffer.concat(planes.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
    const header = Buffer.alloc(8);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(rows, 4);
    const chunk = Buffer.concat([header, payload]);
    await this.#spool!.write(chunk, 0, chunk.length, this.#spoolBytes);
    this.#spoolBytes += chunk.length;
  }

  /** Yields the spooled rows in order: `planes` planes of `rows` x width bytes each, one chunk at a time. */
  async *replayRows(planeCount: number, width: number): AsyncGenerator<{ planes: Uint8Array[]; rows: number }> {
    const header = Buffer.alloc(8);
    for (let at = 0; at < this.#spoolBytes; ) {
      await this.#spool!.read(header, 0, 8, at);
      const bytes = header.readUInt32LE(0);
      const rows = header.readUInt32LE(4);
      const payload = Buffer.alloc(bytes);
      await this.#spool!.read(payload, 0, bytes, at + 8);
      const data = new Uint8Array(await inflateAsync(payload));
      const size = rows * width;
      if (data.length !== planeCount * size)
        throw new Error(`${this.dir}: spooled rows at byte ${at} are damaged; run again without resume`);
      yield { planes: Array.from({ length: planeCount }, (_, p) => data.subarray(p * size, (p + 1) * size)), rows };
      at += 8 + bytes;
    }
  }

  /** The carry saved with the checkpoint resumed from, into `into`. */
  async readCarry(into: Float32Array): Promise<void> {
    if (this.#carry === null) return;
    const bytes = await readFile(join(this.dir, this.#carry));
    if (bytes.length !== into.byteLength)
      throw new Error(`${this.dir}: ${this.#carry} holds ${bytes.length} bytes, not ${into.byteLength}; run again without resume`);
    new Uint8Array(into.buffer, into.byteOffset, into.byteLength).set(bytes);
  }

  /** Records a consistent point: the spool synced, the carry saved, then the state naming both. */
  async checkpoint(point: Checkpoint, carry: Float32Array): Promise<void> {
    await this.#spool!.sync();
    const name = `carry-${point.tileRowsDone}.f32`;
    await writeFileAtomic(join(this.dir, name), new Uint8Array(carry.buffer, carry.byteOffset, carry.byteLength));
    const state: StateFile = { format: FORMAT, version: VERSION, key: this.#key, ...point, spoolBytes: this.#spoolBytes, carry: name };
    await writeFileAtomic(join(this.dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
    if (this.#carry !== null && this.#carry !== name) await rm(join(this.dir, this.#carry), { force: true });
    this.#carry = name;
  }

  /** Closes the spool, keeping everything for a later resume. */
  async close(): Promise<void> {
    await this.#spool?.close();
    this.#spool = undefined;
  }

  /** Deletes the folder: the run finished. */
  async remove(): Promise<void> {
    await this.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
