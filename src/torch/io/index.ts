// Checkpoint file IO: torch.save zip files (.pth/.pt/.bin), safetensors, and mmfd's own checkpoints.
// `import * as torch from '../torch/index.js'` then torch.io.load_pth(...), torch.io.save_safetensors(...).
export {
  CHECKPOINT_FORMAT,
  type Checkpoint,
  type CheckpointOptimizer,
  type LoadStateDictFileOptions,
  load_checkpoint,
  load_state_dict_file,
  mmfd_version,
  STATE_DICT_WRAPPER_KEYS,
  save_checkpoint,
} from './checkpoint.js';
export { type PickleGlobal, type PickleValue, pickle, type UnpickleOptions, UnpicklingError, unpickle } from './pickle.js';
export { load_pth, type PthKey, type PthSaveValue, type PthValue, STORAGE_CLASS_DTYPE, StorageView, save_pth } from './pth.js';
export { load_safetensors, SAFETENSORS_DTYPE, type SafetensorsFile, save_safetensors } from './safetensors.js';
export { crc32, write_zip, type ZipEntry, ZipReader, type ZipWriteOptions, ZipWriter } from './zip.js';
