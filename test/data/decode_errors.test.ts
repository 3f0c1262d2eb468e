// A corrupt JPEG decoded while other threads decode too (as the loader's workers do) is reported with
// its real cause, not sharp's "Warning treated as error due to failOn setting", which says nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { decodeRgb } from '../../src/data/images.js';

/** Decodes `bad` and `good` in turn `rounds` times on a worker thread; resolves to the error messages. */
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.module).then(async ({ decodeRgb }) => {
  const messages = [];
  for (let i = 0; i < workerData.rounds; i++)
    for (const f of [workerData.bad, workerData.good]) await decodeRgb(f).catch((e) => messages.push(e.message));
  parentPort.postMessage(messages);
});`;

test('a corrupt JPEG decoded on several threads at once says what is wrong with it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmfd-jpeg-'));
  try {
    const noise = Buffer.alloc(128 * 128 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    const jpeg = await sharp(noise, { raw: { width: 128, height: 128, channels: 3 } })
      .jpeg()
      .toBuffer();
    const good = join(dir, 'good.jpg');
    writeFileSync(good, jpeg);
    const corrupt = Buffer.from(jpeg);
    corrupt.fill(0xff, jpeg.length >> 1, (jpeg.length >> 1) + 2); // a stray marker inside the entropy-coded data
    const bad = join(dir, 'bad.jpg');
    writeFileSync(bad, corrupt);
    // Alone, the cause is in sharp's message.
    const alone = await decodeRgb(bad).then(
      () => '',
      (e: Error) => e.message,
    );
    assert.match(alone, /^.*bad\.jpg: cannot decode image: VipsJpeg: Corrupt JPEG data/);
    const module = new URL('../../src/data/images.js', import.meta.url).href;
    const runs = Array.from(
      { length: 4 },
      () =>
        new Promise<string[]>((resolve, reject) => {
          const w = new Worker(WORKER, { eval: true, workerData: { module, bad, good, rounds: 15 } });
          w.once('message', (m: string[]) => resolve(m));
          w.once('error', reject);
        }),
    );
    const messages = (await Promise.all(runs)).flat();
    assert.equal(messages.length, 60, 'every decode of the corrupt file fails, none of the good one');
    for (const m of messages) assert.match(m, /bad\.jpg: cannot decode image: VipsJpeg: Corrupt JPEG data/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
