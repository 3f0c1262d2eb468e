import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { COMMANDS } from '../../src/cli/commands.js';
import { runCaptured } from '../helpers/cli.js';
import { repoRoot } from '../helpers/fixtures.js';

const loaded = await Promise.all(Object.entries(COMMANDS).map(async ([name, c]) => ({ name, ...(await c.load()) })));
const optionsOf = (name: string) => new Set(Object.keys(loaded.find((c) => c.name === name)?.spec.options ?? {}));

describe('every subcommand parses its arguments one way', () => {
  for (const c of loaded) {
    test(`mmfd ${c.name}: --help, an unknown flag, a misspelt flag`, async () => {
      assert.equal(c.spec.name, c.name);
      const help = await runCaptured(c.run, ['--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout, new RegExp(`^usage: mmfd ${c.name}`));
      for (const option of Object.keys(c.spec.options)) assert.match(help.stdout, new RegExp(`--${option}\\b`), option);

      const unknown = await runCaptured(c.run, ['--no-such-flag']);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, new RegExp(`^mmfd ${c.name}: unknown option --no-such-flag\\nusage: mmfd ${c.name}`));

      const longest = Object.keys(c.spec.options).sort((a, b) => b.length - a.length)[0];
      if (longest !== undefined && longest.length >= 4) {
        const typo = `--${longest.slice(0, -1)}`;
        const r = await runCaptured(c.run, [typo]);
        assert.equal(r.code, 2);
        assert.match(r.stderr, new RegExp(`unknown option ${typo} \\(did you mean --${longest}\\?\\)`));
      }
    });
  }

  test('a string option without its value exits 2 naming it', async () => {
    const segment = loaded.find((c) => c.name === 'segment')!;
    const r = await runCaptured(segment.run, ['slide.tif', '--out']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--out needs a value/);
  });

  test('mmfd demo: the few-shot options with --no-fewshot exit 2 before anything runs', async () => {
    const demo = loaded.find((c) => c.name === 'demo')!;
    for (const flags of [
      ['--percentages', '5'],
      ['--fewshot-iterations', '5'],
      ['--pretrain-iterations', '5'],
    ]) {
      const r = await runCaptured(demo.run, ['--no-fewshot', ...flags]);
      assert.equal(r.code, 2, flags[0]);
      assert.match(r.stderr, /which --no-fewshot leaves out/);
    }
  });

  test('through the mmfd binary: exit codes 0 and 2, and the nearest command for a typo', () => {
    const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
    const help = spawnSync(process.execPath, [cli, 'synth', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    const bad = spawnSync(process.execPath, [cli, 'synth', '--seeed', '3'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown option --seeed \(did you mean --seed\?\)/);
    const typo = spawnSync(process.execPath, [cli, 'segmnt'], { encoding: 'utf8' });
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /unknown command 'segmnt' \(did you mean 'segment'\?\)/);
  });
});

/** Every `--flag` in a string of the library or CLI sources, with the subcommand the string names (if one). */
function flagsInMessages(): { file: string; flag: string; command: string | undefined }[] {
  const found: { file: string; flag: string; command: string | undefined }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) {
        for (const line of readFileSync(path, 'utf8').split('\n')) {
          if (/^\s*(\/\/|\*|\/\*)/.test(line)) continue;
          const command = /mmfd ([a-z][a-z-]+)/.exec(line)?.[1];
          for (const m of line.matchAll(/(?<=[\s'"`])--([a-z][a-z0-9-]+)/g)) found.push({ file: path, flag: m[1] as string, command });
        }
      }
    }
  };
  walk(join(repoRoot(), 'src'));
  return found;
}

test('every flag that a message names exists, on the command the message names', () => {
  const all = new Set(loaded.flatMap((c) => Object.keys(c.spec.options)));
  const named = flagsInMessages();
  assert.ok(named.length >= 10, `only ${named.length} flags found: the scan is broken`);
  for (const { file, flag, command } of named) {
    if (flag === 'help') continue;
    if (command !== undefined && command in COMMANDS) assert.ok(optionsOf(command).has(flag), `${file}: mmfd ${command} has no --${flag}`);
    else assert.ok(all.has(flag), `${file}: no command has --${flag}`);
  }
});
