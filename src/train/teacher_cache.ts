// Teacher embeddings kept on disk for stage II (train.cache_teacher_embeddings): the teacher is the
// expensive part of distillation, and when no augmentation draws anything at random an image's
// embedding is the same every epoch, so it is computed once and read back afterwards. One
// safetensors file per image under <run>/teacher_embeddings/, valid for one teacher checkpoint.
// The cache cannot be opened for a pipeline whose augmentations declare themselves random.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Augmentation } from '../data/augment.js';
import * as torch from '../torch/index.js';
import { writeAtomic } from '../torch/io/files.js';

type Tensor = torch.Tensor;

export const CACHE_DIR = 'teacher_embeddings';
const MANIFEST = 'teacher.json';

export class TeacherEmbeddingCache {
  readonly dir: string;

  /**
   * Opens the cache of `runDir` for the teacher checkpoint `teacherId`; entries of another teacher are removed.
   * Throws, naming them, when any of the training `augmentations` is random: each epoch would see other images
   * than the cached embeddings were computed from. `where` (the config file) starts the message.
   */
  constructor(runDir: string, teacherId: string, augmentations: readonly Augmentation[], where: string) {
    const random = augmentations.filter((a) => a.random).map((a) => a.name);
    if (random.length > 0) {
      throw new Error(
        `${where}: train.cache_teacher_embeddings needs train.augment without randomness, but ${random.join(', ')} ` +
          `draw${random.length === 1 ? 's' : ''} at random (each epoch's images differ from the cached ones); ` +
          'turn the cache off or make the augmentation fixed',
      );
    }
    this.dir = join(runDir, CACHE_DIR);
    const manifest = join(this.dir, MANIFEST);
    const current = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { teacher?: string }).teacher : undefined;
    if (current !== teacherId) {
      rmSync(this.dir, { recursive: true, force: true });
      mkdirSync(this.dir, { recursive: true });
      writeAtomic(manifest, (sink) => sink.write(new TextEncoder().encode(`${JSON.stringify({ teacher: teacherId })}\n`)));
    }
  }

  #file(name: string): string {
    return join(this.dir, `${name}.safetensors`);
  }

  /** The embeddings [B, C, h, w] of the named images: read when all are cached, else computed for the batch and stored. */
  embeddings(names: readonly string[], device: torch.Device, compute: () => Tensor): Tensor {
    if (names.every((n) => existsSync(this.#file(n)))) {
      return torch.tidy(() => {
        const stacked = torch.stack(names.map((n) => torch.io.load_safetensors(this.#file(n)).tensors.get('embedding') as Tensor));
        return device === 'cpu' ? stacked : stacked.to(device);
      });
    }
    const computed = compute();
    names.forEach((n, k) => {
      if (!existsSync(this.#file(n)))
        torch.tidy(() => torch.io.save_safetensors(this.#file(n), { embedding: computed.select(0, k).contiguous() }));
    });
    return computed;
  }
}
