import { randn } from '../creation.js';
import { tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';
import * as F from './functional.js';
import { Module, Parameter } from './module.js';

/** A lookup table: int64 indices -> rows of weight [num_embeddings, embedding_dim], N(0, 1) init. */
export class Embedding extends Module {
  weight: Parameter;

  constructor(
    readonly num_embeddings: number,
    readonly embedding_dim: number,
  ) {
    super();
    this.weight = tidy(() => new Parameter(randn([num_embeddings, embedding_dim])));
  }

  forward(indices: Tensor): Tensor {
    return F.embedding(indices, this.weight);
  }
}
