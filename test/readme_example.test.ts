// The README's library example, exactly as written there: type-checked against the built package's typed
// entry point and run, both importing 'mmfd' by name as a user would (package.json `exports`, resolved as a
// self-reference), never a path into dist/. Its output is checked against what the synthetic slide makes known.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Inside the package (dist/ is ignored by git), so that 'mmfd' resolves to this package.
mkdirSync(join(root, 'dist'), { recursive: true });
const work = mkdtempSync(join(root, 'dist', 'readme-example-'));
const outputs = mkdtempSync(join(tmpdir(), 'mmfd-readme-'));
after(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(outputs, { recursive: true, force: true });
});

/** The first ```ts block of the README's "As a library" section. */
function readmeExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('As a library\n'));
  assert.ok(section !== undefined, 'README.md has an "As a library" section');
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(block !== null, 'the section has a ts code block');
  return block[1]!;
}

test('the README example type-checks against the package entry point and segments a synthetic slide', async () => {
  const code = readmeExample();
  assert.match(code, /from 'mmfd';/, 'the example imports the package by name');
  const source = join(work, 'example.ts');
  writeFileSync(source, code);

  const program = ts.createProgram([source], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(root, 'node_modules', '@types')],
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.deepEqual(problems, []);
  const resolved = program.getSourceFiles().find((f) => f.fileName.endsWith('/dist/src/index.d.ts'));
  assert.ok(resolved !== undefined, "'mmfd' resolved to the package's own typed entry point");

  const script = join(work, 'example.mjs');
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  writeFileSync(script, js.outputText);
  const { stdout } = await promisify(execFile)(process.execPath, [script], { cwd: root, env: { ...process.env, TMPDIR: outputs } });

  // The 2048-pixel slide at 0.5 um/px, read at the tiny student's 1.0 um/px.
  const lines = stdout.trim().split('\n');
  const head = /^(\d+) x (\d+) px at 1 um\/px in (.+)$/.exec(lines[0]!);
  assert.ok(head !== null, lines[0]);
  assert.deepEqual([Number(head[1]), Number(head[2])], [1024, 1024]);
  const dir = head[3]!;
  assert.ok(dir.startsWith(outputs), 'it writes into a fresh temporary folder');
  assert.deepEqual(readdirSync(dir).sort(), ['labels.tif', 'slide.tif', 'slide_labels.json', 'slide_labels.tif']);
  assert.ok(!existsSync(join(dir, 'labels.tif.partial')), 'the run finished');
  // Tissue detection does not depend on the model: it finds the sections the generator drew.
  const tissue = /^tissue: (\d+) px found, (\d+) px true$/.exec(lines[1]!);
  assert.ok(tissue !== null, lines[1]);
  const [found, truth] = [Number(tissue[1]), Number(tissue[2])];
  assert.ok(truth > 0 && Math.abs(found - truth) / truth < 0.1, `${found} vs ${truth}`);
  // One Dice per class, in the model's class order.
  const dice = lines.slice(2).map((l) => /^(\w+): Dice (\d\.\d{3})$/.exec(l));
  assert.deepEqual(
    dice.map((m) => m?.[1]),
    ['villit', 'thrombus', 'bloodvessel', 'cellgroup'],
  );
  for (const m of dice) assert.ok(Number(m![2]) >= 0 && Number(m![2]) <= 1);
});
