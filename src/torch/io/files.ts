// Low-level file helpers: positional reads that report truncation with the file's name, and the project's
// one atomic write (temporary file in the same folder, flushed, then renamed), which checkpoints, logs,
// reports, pictures and slide outputs all use so a reader never sees a half-written file; and its folder
// form (a folder built beside its target, then swapped into place) for datasets, slide outputs and viewers.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { makeDir } from '../../make_dir.js';

/** Something bytes can be read from at any position: an open file or an in-memory buffer. */
export interface ByteSource {
  /** The name used in error messages (usually the path). */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes from `position`; throws an error naming the file when the file is shorter. */
  read(position: number, length: number, what?: string): Uint8Array;
  close(): void;
}

export class FileSource implements ByteSource {
  readonly size: number;
  #fd: number | undefined;

  constructor(readonly name: string) {
    let fd: number;
    try {
      fd = openSync(name, 'r');
    } catch (err) {
      throw new Error(`${name}: cannot open: ${(err as Error).message}`);
    }
    this.#fd = fd;
    this.size = fstatSync(fd).size;
  }

  read(position: number, length: number, what = 'data'): Uint8Array {
    if (this.#fd === undefined) throw new Error(`${this.name}: file already closed`);
    if (position < 0 || length < 0 || position + length > this.size) {
      throw new Error(
        `${this.name}: truncated or corrupt file: ${what} needs bytes ${position}..${position + length} but the file has ${this.size} bytes`,
      );
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.#fd, out, done, Math.min(length - done, 1 << 30), position + done);
      if (n === 0) throw new Error(`${this.name}: truncated file: unexpected end of file while reading ${what}`);
      done += n;
    }
    return out;
  }

  close(): void {
    if (this.#fd !== undefined) {
      closeSync(this.#fd);
      this.#fd = undefined;
    }
  }
}

export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(
    readonly name: string,
    private readonly bytes: Uint8Array,
  ) {
    this.size = bytes.length;
  }
  read(position: number, length: number, what = 'data'): Uint8Array {
    if (position < 0 || length < 0 || position + length > this.size) {
      throw new Error(
        `${this.name}: truncated or corrupt data: ${what} needs bytes ${position}..${position + length} but there are ${this.size} bytes`,
      );
    }
    return this.bytes.subarray(position, position + length);
  }
  close(): void {}
}

/** Sequential writes to an open file descriptor, counting the bytes written. */
export class FileSink {
  position = 0;
  constructor(readonly fd: number) {}
  write(data: Uint8Array): void {
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done);
    this.position += data.length;
  }
}

/**
 * The temporary names of atomic writes (`.<name>.tmp-<pid>-<12 hex>`), of targets named as `names` (all
 * names when omitted); the group `pid` is the writer's process id.
 */
export function atomicTempPattern(names?: readonly string[]): RegExp {
  const target = names === undefined ? '.+' : names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return new RegExp(`^\\.(?:${target})\\.tmp-(?<pid>\\d+)-[0-9a-f]{12}$`);
}

/**
 * Where an atomic write of `path` goes first: a hidden name beside it, unique so that two writers of one
 * target never share (and clobber) a temporary file. Throws, naming `path`, when it cannot be written.
 */
function temporaryPath(path: string): string {
  const dir = dirname(path);
  if (!existsSync(dir)) throw new Error(`${path}: cannot write: the folder ${dir} does not exist`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new Error(`${path}: cannot write: it is a folder`);
  return join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** Makes a rename in `dir` durable where the platform allows fsync on a folder (not on Windows; the rename is still atomic). */
function syncFolder(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not supported here
  }
}

/**
 * Writes `path` atomically: `write` fills a temporary file next to it, which is flushed and renamed
 * over `path` only when `write` returns. On any error the temporary file is removed and `path` is untouched.
 */
export function writeAtomic(path: string, write: (sink: FileSink) => void): void {
  const tmp = temporaryPath(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx');
  } catch (err) {
    throw new Error(`${path}: cannot write: ${(err as Error).message}`);
  }
  try {
    write(new FileSink(fd));
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing: keep the first error
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // the temporary file may not exist any more
    }
    // A system error (a full disk: ENOSPC) names no file or only the temporary one: name the target.
    if ((err as NodeJS.ErrnoException).syscall !== undefined) {
      throw new Error(`${path}: cannot write: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  }
  syncFolder(dirname(path));
}

/**
 * The same atomic write for a file written over time (a stream, a writer open across calls): its bytes go
 * through `handle` to a temporary file beside `path`, which commit() flushes and renames over `path`;
 * abort(), or a failed commit(), deletes it and leaves `path` untouched.
 */
export class AtomicFile {
  readonly #tmp: string;

  private constructor(
    readonly path: string,
    readonly handle: FileHandle,
    tmp: string,
  ) {
    this.#tmp = tmp;
  }

  static async open(path: string): Promise<AtomicFile> {
    const tmp = temporaryPath(path);
    try {
      return new AtomicFile(path, await open(tmp, 'wx'), tmp);
    } catch (err) {
      throw new Error(`${path}: cannot write: ${(err as Error).message}`);
    }
  }

  async commit(): Promise<void> {
    try {
      await this.handle.sync();
      await this.handle.close();
      await rename(this.#tmp, this.path);
    } catch (err) {
      await this.abort();
      throw err;
    }
    syncFolder(dirname(this.path));
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.#tmp, { force: true });
  }
}

/** Writes `data` (a string as UTF-8) to `path` atomically as writeAtomic does, creating the parent folder first. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  makeDir(dirname(path));
  writeAtomic(path, (sink) => sink.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data));
}

/**
 * The temporary folders a folder is built in (folderTempName) and that an earlier folder is set aside as
 * (swapFolderIn): `<target>.<pid>.<8 hex>.tmp[.old]`; the group `pid` is the writer's process id.
 */
export const FOLDER_TEMP_NAME = /^.+\.(?<pid>\d+)\.[0-9a-f]{8}\.tmp(?:\.old)?$/;

/** Where a folder `target` is built before swapFolderIn moves it into place: beside it, unique per writer. */
export function folderTempName(target: string): string {
  return `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/**
 * Moves the finished folder `built` to `target`. An earlier `target` is set aside (`<built>.old`) first and removed
 * last, so `target` is at every moment the old folder or the new one, never a mix of both.
 */
export async function swapFolderIn(built: string, target: string): Promise<void> {
  const aside = `${built}.old`;
  await rm(aside, { recursive: true, force: true });
  if (existsSync(target)) await rename(target, aside);
  await rename(built, target);
  await rm(aside, { recursive: true, force: true });
}

/** The elements of a little-endian host are written as they are; big-endian hosts are not supported. */
export function assertLittleEndianHost(): void {
  const probe = new Uint8Array(new Uint16Array([1]).buffer);
  if (probe[0] !== 1) throw new Error('mmfd checkpoint IO needs a little-endian host');
}
