export { Dropout, GELU, Identity, ReLU, Sigmoid, Tanh } from './activation.js';
export { ModuleList, ParameterList, Sequential } from './container.js';
export { Conv2d, type Conv2dOptions, ConvTranspose2d } from './conv.js';
export { Embedding } from './embedding.js';
export * as functional from './functional.js';
export * as init from './init.js';
export { Linear } from './linear.js';
export { type LoadResult, Module, Parameter, type StateDict } from './module.js';
export { BatchNorm2d, LayerNorm } from './normalization.js';
