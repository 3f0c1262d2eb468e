import { readFileSync } from 'node:fs';
import * as torch from '../torch/index.js';
import { command } from './args.js';

export const { spec, run } = command({ name: 'version', options: {} }, async () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  console.log(`mmfd ${pkg.version}`);
  console.log(`libtorch ${torch.libtorch_version()}, ${torch.get_num_threads()} intra-op threads`);
  console.log(`CUDA: ${torch.cuda.is_available() ? `${torch.cuda.device_count()} device(s)` : 'not available'}`);
  return 0;
});
