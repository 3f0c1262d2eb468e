// npm run bench:data — the data loader's throughput at the network size (512x512, batch 8) on a
// synthetic PMFT dataset (src/synth/patch), with the reference's training augmentation off and on,
// next to the decode workers alone. Writes bench/results/data.json.
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../src/config/index.js';
import { buildAugmentations } from '../src/data/augment.js';
import { DecodePool } from '../src/data/decode_pool.js';
import { DataLoader } from '../src/data/loader.js';
import { PmftDataset, type SampleFiles } from '../src/data/pmft.js';
import { writeSyntheticDataset } from '../src/synth/patch/dataset.js';
import * as torch from '../src/torch/index.js';
import { writeBenchResult } from './results_file.js';

const root = new URL('../..', import.meta.url).pathname;
const SIZE = 512;
const BATCH = 8;
const COUNT = 48;
const EPOCHS = 3;

async function dataset(): Promise<{ ds: PmftDataset; samples: SampleFiles[] }> {
  const dir = join(root, '.tmp', `bench-data-${SIZE}-${COUNT}`);
  if (!existsSync(join(dir, 'meta_info.json'))) {
    console.log(`writing ${COUNT} synthetic ${SIZE}x${SIZE} samples to ${dir} ...`);
    await writeSyntheticDataset(dir, { count: COUNT, seed: 1, size: SIZE, force: true });
  }
  const ds = PmftDataset.open(dir);
  const file = ds.splitFile('splits/fewer/fewer_test30');
  return { ds, samples: [...ds.readSplit(file, 'train'), ...ds.readSplit(file, 'val')] };
}

/** Images per second over EPOCHS epochs after one warm-up epoch; the consumer only releases the batch. */
async function loaderRate(ds: PmftDataset, samples: SampleFiles[], augment: boolean, workers: number): Promise<number> {
  const augmentations = augment ? buildAugmentations(defaultConfig().train.augment) : [];
  const loader = new DataLoader(ds, samples, { batchSize: BATCH, size: [SIZE, SIZE], augmentations, shuffle: true, seed: 1234, workers });
  const run = async (epoch: number) => {
    for await (const b of loader.epoch(epoch)) torch.dispose([b.image, b.sem_mask]);
  };
  await run(0);
  const t0 = process.hrtime.bigint();
  for (let e = 1; e <= EPOCHS; e++) await run(e);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await loader.close();
  return (EPOCHS * samples.length) / seconds;
}

/** The decode workers alone: JPEG + two PNGs + colour decoding per sample, all samples queued at once. */
async function decodeRate(ds: PmftDataset, samples: SampleFiles[], workers: number): Promise<number> {
  const pool = new DecodePool(workers, ds.cls2clr, ds.metaInfo);
  await Promise.all(samples.map((s) => pool.decode(s)));
  const t0 = process.hrtime.bigint();
  for (let e = 0; e < EPOCHS; e++) await Promise.all(samples.map((s) => pool.decode(s)));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await pool.close();
  return (EPOCHS * samples.length) / seconds;
}

async function main(): Promise<void> {
  const { ds, samples } = await dataset();
  const cores = availableParallelism();
  const workers = Math.min(4, cores);
  const decode = await decodeRate(ds, samples, workers);
  const off = await loaderRate(ds, samples, false, workers);
  const on = await loaderRate(ds, samples, true, workers);
  const result = {
    date: new Date().toISOString(),
    cores,
    // This VM is shared: a high load average means lower, noisier figures.
    load_average_1m: loadavg()[0],
    torch_threads: torch.get_num_threads(),
    workers,
    size: SIZE,
    batch_size: BATCH,
    samples: samples.length,
    epochs_timed: EPOCHS,
    decode_images_per_s: decode,
    loader_images_per_s: { augment_off: off, augment_on: on },
  };
  console.log(
    `${samples.length} synthetic samples at ${SIZE}x${SIZE}, batch ${BATCH}, ${workers} decode workers, ${cores} cores (load average ${loadavg()[0]!.toFixed(1)})`,
  );
  console.log(`decode workers alone: ${decode.toFixed(1)} images/s`);
  console.log(`loader, augmentation off: ${off.toFixed(1)} images/s (${((BATCH / off) * 1000).toFixed(0)} ms per batch)`);
  console.log(
    `loader, augmentation on (Flip + Affine rotation): ${on.toFixed(1)} images/s (${((BATCH / on) * 1000).toFixed(0)} ms per batch)`,
  );
  writeBenchResult('data', result);
}

await main();
