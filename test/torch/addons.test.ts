// The tensor addon does not need OpenSlide (issue 13.9): libopenslide is neither linked into
// mmfd_native.node nor loaded by `import torch`; it comes in with mmfd_openslide.node on the
// first slide read.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const root = new URL('../../..', import.meta.url).pathname;
const release = join(root, 'native', 'build', 'Release');

test('mmfd_native.node links libtorch and not libopenslide; mmfd_openslide.node links libopenslide', () => {
  const deps = (file: string): string => execFileSync('ldd', [join(release, file)], { encoding: 'utf8' });
  const engine = deps('mmfd_native.node');
  assert.match(engine, /libtorch_cpu/);
  assert.doesNotMatch(engine, /openslide/i);
  assert.match(deps('mmfd_openslide.node'), /libopenslide/);
});

test('import torch and run ops without loading libopenslide; the first slide call loads it', () => {
  const script = `
    const { readFileSync } = await import('node:fs');
    const torch = await import(${JSON.stringify(join(root, 'dist/src/torch/index.js'))});
    const { native } = await import(${JSON.stringify(join(root, 'dist/src/torch/native.js'))});
    const loaded = () => readFileSync('/proc/self/maps', 'utf8').includes('libopenslide');
    const sum = torch.tidy(() => torch.ones([2, 3]).sum().item());
    const before = loaded();
    const version = native.openslide.version();
    console.log(JSON.stringify({ sum, before, after: loaded(), version }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
  assert.equal(out.sum, 6);
  assert.equal(out.before, false, 'libopenslide was loaded by the tensor engine');
  assert.equal(out.after, true);
  assert.match(out.version, /^\d+\.\d+/);
});
