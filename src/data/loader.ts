// Training and evaluation batches streamed from disk (spec §7.3): JPEG/PNG decoding and label
// colour decoding on worker threads, the next batches prefetched while the current one is used,
// then on the main thread the resize to the network size, the four final channels and the
// augmentations. The epoch order is a seeded shuffle (or the split order), so a seed fixes it.
import { availableParallelism } from 'node:os';
import type { Config } from '../config/index.js';
import * as torch from '../torch/index.js';
import { type Augmentation, augment, buildAugmentations, sampleRng } from './augment.js';
import { lookupDataset } from './catalog.js';
import { DecodePool } from './decode_pool.js';
import { ensureFewshotSplits } from './fewshot.js';
import type { UnknownColours } from './labels.js';
import { type DecodedSample, PmftDataset, type SampleFiles } from './pmft.js';
import { StreamRng, streamSeed } from './rng.js';
import { imageTensor, rawMaskTensor, resizeBilinear, type Size, sameSize, semMask } from './sem_mask.js';

type Tensor = torch.Tensor;

export interface Batch {
  /** [B, 3, H, W] float32 RGB in [0, 1]. */
  image: Tensor;
  /** [B, 4, H, W] float32 soft targets (villit, thrombus, bloodvessel, cellgroup). */
  sem_mask: Tensor;
  /**
   * [B, 1, H, W] float32 weights, 1 labelled, 0 ignore (soft where resized), moved with sem_mask by every
   * geometric augmentation; only for datasets whose cls2clr has an `ignore` colour (absent: every pixel counts).
   */
  valid?: Tensor;
  names: string[];
}

/** A batch's tensors, for dispose. */
export const batchTensors = (b: Batch): Tensor[] => [b.image, b.sem_mask, ...(b.valid ? [b.valid] : [])];

export interface LoaderOptions {
  batchSize: number;
  /** The network input size (H, W). */
  size: Size;
  augmentations?: readonly Augmentation[];
  /** A new seeded order each epoch (training); otherwise the split's order. */
  shuffle?: boolean;
  seed?: number;
  /** Decode worker threads (default: the cores, at most 4). */
  workers?: number;
  /** Batches decoded ahead of the one being used (default 2). */
  prefetch?: number;
  /** libtorch threads while a batch is assembled (default: the cores the decode workers leave, at least 1). */
  assemblyThreads?: number;
  unknownColours?: UnknownColours;
}

/** Keeps the shuffle streams apart from other uses of the seed. */
const SHUFFLE_STREAM = 0x5f;

export class DataLoader {
  readonly #pool: DecodePool;
  readonly batchSize: number;
  readonly size: Size;
  readonly augmentations: readonly Augmentation[];
  readonly shuffle: boolean;
  readonly seed: number;
  readonly prefetch: number;
  readonly assemblyThreads: number;

  constructor(
    readonly dataset: PmftDataset,
    readonly samples: readonly SampleFiles[],
    o: LoaderOptions,
  ) {
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1)
      throw new RangeError(`DataLoader: batchSize must be a positive integer, got ${o.batchSize}`);
    if (samples.length === 0) throw new RangeError(`DataLoader: no samples (dataset ${dataset.root})`);
    this.batchSize = o.batchSize;
    this.size = o.size;
    this.augmentations = o.augmentations ?? [];
    this.shuffle = o.shuffle ?? false;
    this.seed = o.seed ?? 0;
    this.prefetch = Math.max(0, o.prefetch ?? 2);
    const workers = o.workers ?? Math.min(4, availableParallelism());
    this.assemblyThreads = o.assemblyThreads ?? Math.max(1, availableParallelism() - workers);
    this.#pool = new DecodePool(workers, dataset.cls2clr, dataset.metaInfo, o.unknownColours ?? 'error');
  }

  /** Batches per epoch (the last one may be short, as the reference's drop_last=False). */
  get length(): number {
    return Math.ceil(this.samples.length / this.batchSize);
  }

  /** Sample indices in the order `epoch` visits them. */
  order(epoch: number): number[] {
    const n = this.samples.length;
    return this.shuffle
      ? new StreamRng(streamSeed(this.seed, SHUFFLE_STREAM, epoch)).permutation(n)
      : Array.from({ length: n }, (_, i) => i);
  }

  /** The batches of one epoch; each batch's tensors belong to the caller (dispose them). */
  async *epoch(epoch: number): AsyncGenerator<Batch> {
    const order = this.order(epoch);
    const chunks: number[][] = [];
    for (let i = 0; i < order.length; i += this.batchSize) chunks.push(order.slice(i, i + this.batchSize));
    // Batches being decoded, oldest first; a batch leaves the queue when it is used, so memory
    // holds at most 1 + prefetch decoded batches.
    const queue: Promise<DecodedSample[]>[] = [];
    let next = 0;
    for (let b = 0; b < chunks.length; b++) {
      for (; next < Math.min(chunks.length, b + 1 + this.prefetch); next++) {
        const p = Promise.all((chunks[next] as number[]).map((i) => this.#pool.decode(this.samples[i] as SampleFiles)));
        p.catch(() => {}); // an error surfaces when its batch is awaited; one never awaited (early exit) stays silent
        queue.push(p);
      }
      const decoded = await (queue.shift() as Promise<DecodedSample[]>);
      yield this.#assemble(decoded, chunks[b] as number[], epoch);
    }
  }

  #assemble(decoded: DecodedSample[], indices: number[], epoch: number): Batch {
    // libtorch's idle intra-op threads keep cores busy; measured on 2 cores with 2 decode workers,
    // the loader ran 3-4x slower at libtorch's full thread count than with 1 thread here.
    const threads = torch.get_num_threads();
    torch.set_num_threads(this.assemblyThreads);
    try {
      return this.#assembleTensors(decoded, indices, epoch);
    } finally {
      torch.set_num_threads(threads);
    }
  }

  #assembleTensors(decoded: DecodedSample[], indices: number[], epoch: number): Batch {
    return torch.tidy(() => {
      const samples = decoded.map((d, k) => {
        const native = imageTensor(d.image);
        const image = sameSize(native, this.size) ? native : resizeBilinear(native, this.size);
        const mask = semMask(rawMaskTensor(d.mask, d.image.height, d.image.width), this.size);
        const rng = sampleRng(this.seed, epoch, indices[k] as number);
        if (d.valid === undefined) return augment({ image, mask }, this.augmentations, rng);
        // The valid mask rides as a fifth mask channel, so every geometric step moves it with the labels (an
        // affine's area from outside the patch comes in as 0: ignored).
        const raw = rawMaskTensor(d.valid, d.image.height, d.image.width);
        const valid = sameSize(raw, this.size) ? raw : resizeBilinear(raw, this.size);
        const out = augment({ image, mask: torch.cat([mask, valid], 0) }, this.augmentations, rng);
        const classes = mask.size(0);
        return { image: out.image, mask: out.mask.narrow(0, 0, classes), valid: out.mask.narrow(0, classes, 1) };
      });
      const valid = samples.flatMap((s) => ('valid' in s ? [s.valid] : []));
      return {
        image: torch.stack(samples.map((s) => s.image)),
        sem_mask: torch.stack(samples.map((s) => s.mask)),
        ...(valid.length > 0 ? { valid: torch.stack(valid) } : {}),
        names: decoded.map((d) => d.name),
      };
    });
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

export type Stage = 'train' | 'val' | 'test';

/** The samples of one stage: the catalog dataset of cfg[stage].dataset, its split file for `perc`, that file's column. */
export function stageSamples(
  cfg: Config,
  stage: Stage,
  perc: number,
  catalog?: string,
): { dataset: PmftDataset; file: string; samples: SampleFiles[] } {
  const entry = lookupDataset(cfg[stage].dataset, catalog);
  const dataset = PmftDataset.open(entry.root);
  const file = ensureFewshotSplits(dataset, entry.split, [perc], cfg.seed).get(perc) as string;
  return { dataset, file, samples: dataset.readSplit(file, stage === 'train' ? 'train' : 'val') };
}

/**
 * The loader a config describes for one stage (spec §7.3): the dataset named by cfg[stage].dataset
 * in the catalog, the few-shot split for `perc`, its train column for training and its val column
 * for val and test, val.augment for both val and test (as the reference), shuffling for training,
 * train.num_workers decode workers (at most one per core).
 */
export function loaderFromConfig(
  cfg: Config,
  stage: Stage,
  perc: number,
  extra: Partial<LoaderOptions> & { catalog?: string } = {},
): DataLoader {
  const { catalog, ...options } = extra;
  const section = cfg[stage];
  const { dataset, samples } = stageSamples(cfg, stage, perc, catalog);
  const seed = cfg.seed;
  const size = cfg.img_size;
  return new DataLoader(dataset, samples, {
    batchSize: section.batch_size,
    size: [size, size],
    augmentations: buildAugmentations(cfg[stage === 'test' ? 'val' : stage].augment),
    shuffle: stage === 'train',
    seed,
    // The reference's num_workers (8 for every loader), capped at the cores.
    workers: Math.max(1, Math.min(cfg.train.num_workers, availableParallelism())),
    ...options,
  });
}
