// A decode worker of the loader's pool (loader.ts): reads one sample's JPEG and PNGs with sharp
// and decodes the label colours, off the main thread; the pixels go back as transferred buffers.
import { parentPort } from 'node:worker_threads';
import { DataError } from './errors.js';
import type { UnknownColours } from './labels.js';
import { decodeSample, type SampleFiles } from './pmft.js';

export interface DecodeJob {
  id: number;
  files: SampleFiles;
  cls2clr: [string, number][];
  metaInfo: string;
  unknown: UnknownColours;
}

export type DecodeReply =
  | { id: number; ok: true; width: number; height: number; rgb: Uint8Array; mask: Uint8Array; valid?: Uint8Array }
  | { id: number; ok: false; message: string; dataError: boolean };

const port = parentPort;
if (port === null) throw new Error('decode_worker.js must run as a worker thread');

port.on('message', (job: DecodeJob) => {
  decodeSample(job.files, new Map(job.cls2clr), job.metaInfo, job.unknown).then(
    (s) => {
      // A copy: sharp's buffer may be a view into memory that cannot be transferred.
      const rgb = new Uint8Array(s.image.data);
      const { valid } = s;
      const reply: DecodeReply = { id: job.id, ok: true, width: s.image.width, height: s.image.height, rgb, mask: s.mask, valid };
      const moved = [rgb.buffer, s.mask.buffer as ArrayBuffer, ...(valid ? [valid.buffer as ArrayBuffer] : [])];
      port.postMessage(reply, moved);
    },
    (err: unknown) => {
      const reply: DecodeReply = {
        id: job.id,
        ok: false,
        message: err instanceof Error ? err.message : String(err),
        dataError: err instanceof DataError,
      };
      port.postMessage(reply);
    },
  );
});
