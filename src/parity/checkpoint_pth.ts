// checkpoint_pth: TinyViT's patch embedding saved as {'net': state_dict, 'epoch': 3} with torch.save.
// Checks the .pth reader end to end: the checkpoint loads strictly and reproduces the forward pass.
import { join } from 'node:path';
import { PatchEmbed } from '../models/tinyvit/patch_embed.js';
import * as torch from '../torch/index.js';
import type { Fixture, KindResult } from './check.js';

export function run(f: Fixture): KindResult {
  const file = join(f.dir, 'checkpoint.pth');
  const ckpt = torch.io.load_pth(file);
  if (!(ckpt instanceof Map) || !(ckpt.get('net') instanceof Map)) throw new Error(`${file}: expected {'net': state_dict, ...}`);
  const net = new PatchEmbed(Number(f.config.in_chans), Number(f.config.embed_dim)).eval();
  net.load_state_dict(ckpt.get('net') as Map<string, torch.Tensor>);
  const sd = net.state_dict();
  const sameAsSafetensors = [...f.weights].every(([k, v]) => {
    const mine = sd.get(k);
    return mine !== undefined && torch.tidy(() => mine.dtype === v.dtype && mine.eq(v).all().item() === 1);
  });
  const y = torch.no_grad(() => net.forward(f.inputs.get('x')!));
  net.dispose();
  return {
    outputs: new Map([['y', y]]),
    checks: [
      { name: 'epoch', ok: ckpt.get('epoch') === 3, detail: `epoch = ${String(ckpt.get('epoch'))}` },
      { name: 'weights equal weights.safetensors', ok: sameAsSafetensors && sd.size === f.weights.size, detail: `${sd.size} keys` },
    ],
  };
}
