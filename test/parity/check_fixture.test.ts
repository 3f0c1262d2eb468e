// Every fixture kind mmfd supports reproduces its reference folder within the README's tolerances,
// both through the library call and through the `mmfd check-fixture` command.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkFixture, knownKinds } from '../../src/parity/check.js';
import '../../src/parity/kinds.js';
import { FIXTURES, fixture, repoRoot } from '../helpers/fixtures.js';

for (const kind of knownKinds()) {
  test(`fixture ${kind} reproduces the reference`, async () => {
    const { lines, ok } = await checkFixture(fixture(kind));
    const failed = lines.filter((l) => !l.ok).map((l) => `${l.name}: diff ${l.diff} (${l.tolerance}) ${l.note ?? ''}`);
    assert.ok(ok, `failing outputs:\n${failed.join('\n')}`);
  });
}

test('mmfd check-fixture prints a line per output and exits 0 on a passing folder, non-zero otherwise', () => {
  const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
  const good = spawnSync(process.execPath, [cli, 'check-fixture', fixture('checkpoint_pth')], { encoding: 'utf8' });
  assert.equal(good.status, 0, good.stderr);
  assert.match(good.stdout, /^ok {3}y .*diff/m);
  assert.match(good.stdout, /PASS: 3\/3/);
  const bad = spawnSync(process.execPath, [cli, 'check-fixture', FIXTURES], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /not a fixture folder/);
});

test('check-fixture runs only network kinds on another device, and says which', async () => {
  await assert.rejects(
    checkFixture(fixture('metrics'), 'cuda'),
    /'metrics' runs on the CPU only \(on other devices: student_full, teacher_small\)/,
  );
  const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
  const bad = spawnSync(process.execPath, [cli, 'check-fixture', fixture('checkpoint_pth'), '--device', 'gpu'], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--device must be cpu, cuda or cuda:N \(got gpu\)/);
});
