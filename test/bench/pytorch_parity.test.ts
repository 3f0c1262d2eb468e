// bench:train's PyTorch port of the student (bench/train/pytorch_student.py) computes what mmfd computes:
// same state dict, same input -> masks (eval and train mode), the step's loss and every parameter's gradient
// norm within 1e-4 x max(1, |ref|). Runs only where a python3 imports torch (Debian's python3-torch).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pythonWithTorch } from '../../bench/train/pytorch.js';
import { checkParity } from '../../bench/train/pytorch_parity.js';

const python = pythonWithTorch();

test('the PyTorch student loads mmfd state dict strictly and matches its forward, loss and gradients', {
  skip: python === undefined && 'no python3 imports torch (apt-get install python3-torch)',
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmfd-pyt-parity-'));
  try {
    const r = checkParity(python as string, dir);
    for (const k of ['eval_masks', 'train_masks', 'loss', 'grad_norms'] as const) {
      assert.ok(r[k].worst_over_tolerance <= 1, `${k}: ${JSON.stringify(r[k])}`);
    }
    assert.ok(r.loss.max_ref > 0, 'the loss of a random student on a random target is positive');
    assert.equal(r.ok, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
