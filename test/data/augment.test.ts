// Augmentations: image and mask stay aligned (asymmetric pattern), the geometry is the documented
// one (a plain-TS rotation as known truth), the random draws have the right statistics and
// repeat for a seed, and the config block builds with defaults and clear errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig, parseConfig } from '../../src/config/index.js';
import {
  Affine,
  augment,
  BrightnessContrast,
  buildAugmentations,
  Flip,
  HEBDecompose,
  HEDJitter,
  Resize,
  type Sample,
  sampleRng,
} from '../../src/data/augment.js';
import { StreamRng } from '../../src/data/rng.js';
import { RGB_FROM_HED } from '../../src/data/stain.js';
import * as torch from '../../src/torch/index.js';

const N = 32;
/** An 'F' (no flip or rotation maps it onto itself) as a 0/1 [N, N] array, off-centre. */
function letterF(): Float32Array {
  const a = new Float32Array(N * N);
  const set = (r0: number, r1: number, c0: number, c1: number) => {
    for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) a[r * N + c] = 1;
  };
  set(5, 27, 8, 12); // stem
  set(5, 9, 12, 24); // top bar
  set(14, 17, 12, 20); // middle bar
  return a;
}

/** Image: the F in channel 0, a ramp in 1 and 2; mask: the F and its complement. */
function patternSample(): Sample {
  const f = letterF();
  const ramp = Float32Array.from({ length: N * N }, (_, i) => (i % N) / N);
  const image = torch.fromTypedArray(Float32Array.from([...f, ...ramp, ...ramp.map((v) => 1 - v)]), [3, N, N]);
  const mask = torch.fromTypedArray(Float32Array.from([...f, ...f.map((v) => 1 - v)]), [2, N, N]);
  return { image, mask };
}

const TRAIN_BLOCK = defaultConfig().train.augment;
/** A train.augment block as the config loader validates it. */
const block = (yaml: string) => parseConfig(`train:\n  augment: ${yaml}`).train.augment;

test('alignment: after flips and rotations the mask still covers the pattern in the image', () => {
  const augs = buildAugmentations(TRAIN_BLOCK);
  assert.deepEqual(
    augs.map((a) => a.name),
    ['HEBDecompose', 'Flip', 'Affine', 'Resize'],
  );
  const flipsOnly = [new Flip(true, true)];
  for (let i = 0; i < 12; i++) {
    torch.tidy(() => {
      const s = patternSample();
      // Flips: exact.
      const f = augment(s, flipsOnly, sampleRng(5, 0, i));
      assert.equal(f.image.select(0, 0).sub(f.mask.select(0, 0)).abs().max().item(), 0);
      // Flip + rotation by any angle: bilinear image vs nearest mask differ only along edges.
      const r = augment(s, augs.slice(0, 3), sampleRng(5, 0, i));
      const fromImage = r.image.select(0, 0).gt(0.5).float();
      const mismatch = fromImage.sub(r.mask.select(0, 0)).abs().sum().item();
      const area = r.mask.select(0, 0).sum().item();
      assert.ok(area > 100, `pattern lost (area ${area})`);
      assert.ok(mismatch <= 0.05 * area, `sample ${i}: ${mismatch} of ${area} pixels disagree`);
      // The complement channel moves with it: outside the rotated frame both are 0 (zero fill).
      const both = r.mask.select(0, 0).add(r.mask.select(0, 1));
      assert.ok(both.le(1).all().item());
    });
  }
});

test('Affine: rotate 90 is a counter-clockwise quarter turn about the centre (image and mask)', () => {
  torch.tidy(() => {
    const s = patternSample();
    const out = new Affine([1, 1], [0, 0], [90, 90], [0, 0], 1).apply(s, new StreamRng(1));
    const quarter = (x: torch.Tensor) => x.transpose(1, 2).flip(1); // out[r][c] = in[c][N-1-r]
    assert.ok(out.image.sub(quarter(s.image)).abs().max().item() < 1e-5);
    assert.equal(out.mask.sub(quarter(s.mask)).abs().max().item(), 0);
  });
});

test('Affine: rotate 30 matches a plain-TS nearest-neighbour rotation about the centre with zero fill', () => {
  const f = letterF();
  const theta = (30 * Math.PI) / 180;
  const expected = new Float32Array(N * N);
  for (let r = 0; r < N; r++)
    for (let c = 0; c < N; c++) {
      // output -> input for a counter-clockwise turn on screen (y down), centred pixel coordinates
      const [xo, yo] = [c + 0.5 - N / 2, r + 0.5 - N / 2];
      const xi = Math.cos(theta) * xo - Math.sin(theta) * yo;
      const yi = Math.sin(theta) * xo + Math.cos(theta) * yo;
      const [ci, ri] = [Math.round(xi + N / 2 - 0.5), Math.round(yi + N / 2 - 0.5)];
      expected[r * N + c] = ci >= 0 && ci < N && ri >= 0 && ri < N ? (f[ri * N + ci] as number) : 0;
    }
  torch.tidy(() => {
    const s = patternSample();
    const out = new Affine([1, 1], [0, 0], [30, 30], [0, 0], 1).apply(s, new StreamRng(1));
    const got = out.mask.select(0, 0).toTypedArray() as Float32Array;
    const differ = got.reduce((n, v, i) => n + (v !== expected[i] ? 1 : 0), 0);
    assert.ok(differ <= 4, `${differ} pixels differ (rounding ties only)`);
    // The other direction would be far off: the test can tell the rotation sense.
    const back = new Affine([1, 1], [0, 0], [-30, -30], [0, 0], 1).apply(s, new StreamRng(1));
    const wrong = (back.mask.select(0, 0).toTypedArray() as Float32Array).reduce((n, v, i) => n + (v !== expected[i] ? 1 : 0), 0);
    assert.ok(wrong > 50);
  });
});

test('Flip statistics: h and v independent at p = 0.5, prob_th ignored, reproducible per (seed, epoch, index)', () => {
  const counts = { h: 0, v: 0, hv: 0 };
  const trials = 3000;
  const seen: string[] = [];
  torch.tidy(() => {
    const x = torch.tensor([
      [
        [0, 1],
        [2, 3],
      ],
    ]);
    const flip = new Flip(true, true);
    for (let i = 0; i < trials; i++) {
      const y = flip.apply({ image: x, mask: x }, sampleRng(1234, 3, i)).image.toArray();
      const h = y[0] === 2 || y[0] === 3; // rows swapped
      const v = y[0] === 1 || y[0] === 3; // columns swapped
      counts.h += Number(h);
      counts.v += Number(v);
      counts.hv += Number(h && v);
      if (i < 50) seen.push(y.join());
    }
    for (let i = 0; i < 50; i++)
      assert.equal(
        flip
          .apply({ image: x, mask: x }, sampleRng(1234, 3, i))
          .image.toArray()
          .join(),
        seen[i],
      );
    const other = Array.from({ length: 50 }, (_, i) =>
      flip
        .apply({ image: x, mask: x }, sampleRng(1234, 4, i))
        .image.toArray()
        .join(),
    );
    assert.notDeepEqual(other, seen);
  });
  assert.ok(Math.abs(counts.h / trials - 0.5) < 0.03, `h ${counts.h}`);
  assert.ok(Math.abs(counts.v / trials - 0.5) < 0.03, `v ${counts.v}`);
  assert.ok(Math.abs(counts.hv / trials - 0.25) < 0.03, `hv ${counts.hv}`);
  // prob_th is read from the config and ignored, as in the reference.
  const [lo, hi] = [0.1, 0.9].map((p) => buildAugmentations(block(`{Flip: {h: true, v: true, prob_th: ${p}}}`))[0] as Flip);
  torch.tidy(() => {
    const x = torch.tensor([
      [
        [0, 1],
        [2, 3],
      ],
    ]);
    for (let i = 0; i < 20; i++) {
      const a = lo!.apply({ image: x, mask: x }, sampleRng(1, 0, i)).image.toArray();
      const b = hi!.apply({ image: x, mask: x }, sampleRng(1, 0, i)).image.toArray();
      assert.deepEqual(a, b);
    }
  });
});

test('Affine statistics: angles uniform over [-360, 360] with p = 1; p = 0 never applies', () => {
  const affine = buildAugmentations(block('{Affine: {}}'))[0] as Affine;
  const angles = Array.from({ length: 4000 }, (_, i) => affine.draw(sampleRng(1234, 0, i), 512, 512));
  assert.ok(angles.every((d) => d.apply && d.angle >= -360 && d.angle < 360 && d.scale === 1));
  const bins = [0, 0, 0, 0];
  for (const d of angles) bins[Math.min(3, Math.floor((d.angle + 360) / 180))]! += 1;
  for (const b of bins) assert.ok(Math.abs(b / 4000 - 0.25) < 0.03, `bins ${bins}`);
  const mean = angles.reduce((m, d) => m + d.angle, 0) / angles.length;
  assert.ok(Math.abs(mean) < 15, `mean ${mean}`);
  const again = Array.from({ length: 4000 }, (_, i) => affine.draw(sampleRng(1234, 0, i), 512, 512).angle);
  assert.deepEqual(
    again,
    angles.map((d) => d.angle),
  );
  const never = new Affine([1, 1], [0, 0], [-360, 360], [0, 0], 0);
  assert.ok(Array.from({ length: 200 }, (_, i) => never.draw(sampleRng(1, 0, i), 8, 8)).every((d) => !d.apply));
});

test('Resize: image and mask bilinearly to the size; identity at that size', () => {
  torch.tidy(() => {
    const s = patternSample();
    const out = new Resize([16, 8]).apply(s);
    assert.deepEqual(out.image.shape, [3, 16, 8]);
    assert.deepEqual(out.mask.shape, [2, 16, 8]);
    // 2x downscale without antialias: each value is the mean of a 2x2 block (half-pixel centres).
    const block = (x: torch.Tensor, r: number, c: number) =>
      (x
        .select(0, 0)
        .narrow(0, 2 * r, 2)
        .narrow(1, 4 * c + 1, 2)
        .sum()
        .item() as number) / 4;
    assert.ok(Math.abs(out.mask.select(0, 0).select(0, 3).select(0, 2).item() - block(s.mask, 3, 2)) < 1e-6);
    assert.equal(new Resize([N, N]).apply(s), s);
  });
});

test('HEBDecompose: use false is the identity; use true gives skimage rgb2hed stain amounts', () => {
  torch.tidy(() => {
    const s = patternSample();
    assert.equal(new HEBDecompose(false).apply(s), s);
    // A pixel made of known stain amounts deconvolves back to them.
    const amounts = [0.3, 0.1, 0.05];
    const L = Math.log(1e-6);
    const rgb = [0, 1, 2].map((j) => Math.exp(L * amounts.reduce((acc, a, i) => acc + a * RGB_FROM_HED[i]![j]!, 0)));
    const img = torch.tensor(rgb).reshape(3, 1, 1);
    const hed = new HEBDecompose(true).apply({ image: img, mask: img }).image.toArray();
    for (const [i, v] of hed.entries()) assert.ok(Math.abs(v - amounts[i]!) < 1e-5, `${hed} vs ${amounts}`);
  });
});

test('HEDJitter and BrightnessContrast: off by default; change the image only; zero jitter is the identity', () => {
  const defaults = buildAugmentations(block('{HEDJitter: {}, BrightnessContrast: {}}'));
  torch.tidy(() => {
    const s = patternSample();
    const image = s.image.mul(0.6).add(0.2); // away from 0 and 1
    for (const a of defaults) assert.equal(a.apply({ image, mask: s.mask }, new StreamRng(3)).image, image);
    const still = new HEDJitter(true, 0, 0).apply({ image, mask: s.mask }, new StreamRng(3));
    assert.ok(still.image.sub(image).abs().max().item() < 1e-5);
    const j = new HEDJitter(true, 0.2, 0.05).apply({ image, mask: s.mask }, new StreamRng(3));
    assert.equal(j.mask, s.mask);
    assert.ok(j.image.sub(image).abs().max().item() > 0.01);
    assert.ok(j.image.min().item() >= 0 && j.image.max().item() <= 1);
    const replay = new HEDJitter(true, 0.2, 0.05).apply({ image, mask: s.mask }, new StreamRng(3));
    assert.equal(replay.image.sub(j.image).abs().max().item(), 0);
    const bc = new BrightnessContrast(true, 0.1, 0.2).apply({ image, mask: s.mask }, new StreamRng(9));
    const r = new StreamRng(9);
    const c = 1 + r.uniform(-0.2, 0.2);
    const b = r.uniform(-0.1, 0.1);
    assert.ok(bc.image.sub(image.mul(c).add(b).clamp(0, 1)).abs().max().item() < 1e-6);
    assert.equal(bc.mask, s.mask);
  });
});

test('config: the new switches validate in YAML, default off; bad options are errors naming the option', () => {
  const cfg = parseConfig('train:\n  augment:\n    HEDJitter:\n      use: true\n    Flip:\n      h: false\n', 'x.yaml');
  const augs = buildAugmentations(cfg.train.augment);
  assert.deepEqual(
    augs.map((a) => a.name),
    ['HEDJitter', 'Flip'],
  );
  assert.equal((augs[0] as HEDJitter).alpha, 0.05);
  assert.equal((augs[0] as HEDJitter).use, true);
  assert.deepEqual([(augs[1] as Flip).h, (augs[1] as Flip).v], [false, true]);
  const bad = (yaml: string) => () => parseConfig(`val:\n  augment: ${yaml}`, 'x.yaml');
  assert.throws(
    bad('{Affine: {rotate: [10, -10]}}'),
    /x\.yaml: 'val\.augment\.Affine\.rotate' must be \[low, high\] numbers with low <= high, got \[10,-10\]/,
  );
  assert.throws(bad("{Flip: {h: 'yes'}}"), /x\.yaml: 'val\.augment\.Flip\.h' must be true or false, got "yes"/);
  assert.throws(bad('{Resize: {size: [0, 512]}}'), /'val\.augment\.Resize\.size\[0\]' must be an integer >= 1, got 0/);
  assert.throws(bad('{Jitter: {}}'), /x\.yaml: unknown key 'val\.augment\.Jitter'$/);
  assert.throws(bad('{Flipp: {}}'), /unknown key 'val\.augment\.Flipp' \(did you mean 'val\.augment\.Flip'\?\)/);
});
