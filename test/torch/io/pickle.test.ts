import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PyDict, PyFloat, PyGlobal, PyOrderedDict, PyReduce, PyTuple, pickle, unpickle } from '../../../src/torch/io/pickle.js';
import { load_pth } from '../../../src/torch/io/pth.js';
import { write_zip } from '../../../src/torch/io/zip.js';
import { tempDir } from './helpers.js';

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const ascii = (s: string): number[] => [...Buffer.from(s, 'latin1')];
const binunicode = (s: string): number[] => {
  const b = Buffer.from(s, 'utf8');
  return [0x58, b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, ...b];
};

// What Python's pickle.dumps writes for
// OrderedDict(a=[1, -2, 3.5, None, True, False], b=(1, 2, 3, 4), c={'x': 'héllo', 'y': 70000}, big=2**80,
//             neg=-(2**70), i32=-100000, t1=(1,), t2=(1, 2), t3=(1, 2, 3))
const PY_PROTO2 =
  '800263636f6c6c656374696f6e730a4f726465726564446963740a7100295271012858010000006171025d7103284b014afeffffff47400c0000000000004e8889655801000000627104284b014b024b034b0474710558010000006371067d7107285801000000787108580600000068c3a96c6c6f7109580100000079710a4a70110100755803000000626967710b8a0b000000000000000000000158030000006e6567710c8a090000000000000000c05803000000693332710d4a6079feff58020000007431710e4b0185710f5802000000743271104b014b028671115802000000743371124b014b024b03877113752e';
const PY_PROTO0 =
  'ccollections\nOrderedDict\np0\n(tRp1\nVa\np2\n(lp3\nI1\naI-2\naF3.5\naNaI01\naI00\nasVb\np4\n(I1\nI2\nI3\nI4\ntp5\nsVc\np6\n(dp7\nVx\np8\nVh\xe9llo\np9\nsVy\np10\nI70000\nssVbig\np11\nL1208925819614629174706176L\nsVneg\np12\nL-1180591620717411303424L\nsVi32\np13\nI-100000\nsVt1\np14\n(I1\ntp15\nsVt2\np16\n(I1\nI2\ntp17\nsVt3\np18\n(I1\nI2\nI3\ntp19\ns.';
// Protocol 5 (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL, EMPTY_SET/ADDITEMS, FROZENSET, SHORT_BINBYTES) of
// OrderedDict(a=[1, -2, 3.5, None, True, False], b=(1, 2, 3, 4), c={'x': 'héllo', 'y': b'\x00\x01'}, big=2**80,
//             neg=-(2**70), i32=-100000, s={1, 2}, f=frozenset([3]))
const PY_PROTO5 =
  '800595b0000000000000008c0b636f6c6c656374696f6e73948c0b4f72646572656444696374949394295294288c0161945d94284b014afeffffff47400c0000000000004e8889658c016294284b014b024b034b0474948c0163947d94288c0178948c0668c3a96c6c6f948c0179944302000194758c03626967948a0b00000000000000000000018c036e6567948a090000000000000000c08c03693332944a6079feff8c0173948f94284b014b02908c016694284b039194752e';

function checkCommon(v: Map<unknown, unknown>): void {
  assert.ok(v instanceof Map);
  assert.deepEqual(v.get('a'), [1, -2, 3.5, null, true, false]);
  assert.deepEqual(v.get('b'), [1, 2, 3, 4]);
  assert.equal(v.get('big'), 2n ** 80n);
  assert.equal(v.get('neg'), -(2n ** 70n));
  assert.equal(v.get('i32'), -100000);
  assert.equal((v.get('c') as Map<string, unknown>).get('x'), 'héllo');
}

test('unpickles what Python writes, protocols 0, 2 and 5', () => {
  const v2 = unpickle(hex(PY_PROTO2)) as Map<unknown, unknown>;
  checkCommon(v2);
  assert.deepEqual([...v2.keys()], ['a', 'b', 'c', 'big', 'neg', 'i32', 't1', 't2', 't3']);
  assert.deepEqual([v2.get('t1'), v2.get('t2'), v2.get('t3')], [[1], [1, 2], [1, 2, 3]]);
  assert.equal((v2.get('c') as Map<string, unknown>).get('y'), 70000);

  const v0 = unpickle(Uint8Array.from(Buffer.from(PY_PROTO0, 'latin1'))) as Map<unknown, unknown>;
  checkCommon(v0);
  assert.deepEqual([...v0.keys()], [...v2.keys()]);

  const v5 = unpickle(hex(PY_PROTO5)) as Map<unknown, unknown>;
  checkCommon(v5);
  assert.deepEqual([...((v5.get('c') as Map<string, unknown>).get('y') as Uint8Array)], [0, 1]);
  assert.deepEqual([...(v5.get('s') as Set<number>)], [1, 2]);
  assert.deepEqual([...(v5.get('f') as Set<number>)], [3]);
});

test('pickle -> unpickle round trip (protocol 2 writer)', () => {
  const value = new PyOrderedDict([
    ['ints', [0, 255, 256, 65535, 65536, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, -(2 ** 40), 2n ** 64n, -(2n ** 63n), 128n, -129n]],
    ['floats', [0.5, -1e300, Number.NaN, Number.POSITIVE_INFINITY, -0, new PyFloat(2)]],
    ['str', 'ünï €'],
    [
      'nested',
      new PyDict([
        ['x', new PyTuple([1, 2, 3, 4])],
        [7, null],
      ]),
    ],
    ['bools', [true, false]],
  ]);
  const v = unpickle(pickle(value)) as Map<string, unknown>;
  assert.deepEqual(v.get('ints'), [
    0,
    255,
    256,
    65535,
    65536,
    -1,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 40,
    -(2 ** 40),
    2n ** 64n,
    -(2n ** 63n),
    128,
    -129,
  ]);
  const floats = v.get('floats') as number[];
  assert.equal(floats[0], 0.5);
  assert.equal(floats[1], -1e300);
  assert.ok(Number.isNaN(floats[2]));
  assert.equal(floats[3], Number.POSITIVE_INFINITY);
  assert.ok(Object.is(floats[4], -0));
  assert.equal(floats[5], 2);
  assert.equal(v.get('str'), 'ünï €');
  assert.deepEqual((v.get('nested') as Map<unknown, unknown>).get('x'), [1, 2, 3, 4]);
  assert.equal((v.get('nested') as Map<unknown, unknown>).get(7), null);
  // Many items are written in SETITEMS / APPENDS batches of 1000.
  const big = new PyOrderedDict(Array.from({ length: 2500 }, (_, i) => [`k${i}`, Array.from({ length: 3 }, (_, j) => i + j)] as const));
  const back = unpickle(pickle(big)) as Map<string, number[]>;
  assert.equal(back.size, 2500);
  assert.deepEqual(back.get('k2499'), [2499, 2500, 2501]);
  const list = unpickle(pickle(Array.from({ length: 2001 }, (_, i) => i))) as number[];
  assert.equal(list.length, 2001);
  assert.equal(list[2000], 2000);
});

/** A pickle that would run os.system(cmd) (GLOBAL posix system + REDUCE), as a malicious checkpoint does. */
function evilGlobal(module: string, name: string, arg: string): Uint8Array {
  return Uint8Array.from([0x80, 2, 0x63, ...ascii(`${module}\n${name}\n`), ...binunicode(arg), 0x85, 0x52, 0x2e]);
}
/** The same with STACK_GLOBAL (protocol 4). */
function evilStackGlobal(module: string, name: string, arg: string): Uint8Array {
  const short = (s: string): number[] => {
    const b = Buffer.from(s, 'utf8');
    return [0x8c, b.length, ...b];
  };
  return Uint8Array.from([0x80, 4, ...short(module), ...short(name), 0x93, ...short(arg), 0x85, 0x52, 0x2e]);
}

test('refuses globals outside the allow-list, naming them, and runs nothing', () => {
  const { dir, cleanup } = tempDir();
  try {
    const sentinel = join(dir, 'pwned');
    const cases: [string, Uint8Array][] = [
      ['posix.system', evilGlobal('posix', 'system', `touch ${sentinel}`)],
      ['builtins.eval', evilGlobal('builtins', 'eval', `open(${JSON.stringify(sentinel)}, 'w')`)],
      ['os.system', evilStackGlobal('os', 'system', `touch ${sentinel}`)],
      ['builtins.exec', evilStackGlobal('builtins', 'exec', `open(${JSON.stringify(sentinel)}, 'w')`)],
      ['subprocess.Popen', evilGlobal('subprocess', 'Popen', `touch ${sentinel}`)],
    ];
    for (const [qual, bytes] of cases) {
      assert.throws(
        () => unpickle(bytes, { filename: 'checkpoint.pth' }),
        (e: Error) =>
          e.message === `checkpoint.pth: refusing to load: the pickle refers to ${qual}, which is not a tensor-checkpoint class`,
        qual,
      );
      // Through the checkpoint loader too: a zip whose data.pkl is the malicious pickle.
      const pth = join(dir, `evil_${qual.replace('.', '_')}.pth`);
      write_zip(pth, [
        { name: 'evil/data.pkl', data: bytes },
        { name: 'evil/version', data: new TextEncoder().encode('3\n') },
      ]);
      assert.throws(
        () => load_pth(pth),
        (e: Error) => e.message.includes(pth) && e.message.includes(`refers to ${qual}`),
      );
    }
    assert.equal(existsSync(sentinel), false);
  } finally {
    cleanup();
  }
});

test('an allowed global may not be reached by other means (OBJ, BUILD on plain dicts)', () => {
  // BUILD on a dict no allowed class made.
  assert.throws(
    () => unpickle(Uint8Array.from([0x80, 2, 0x7d, 0x7d, 0x62, 0x2e])),
    /BUILD at byte 4 on an object that no allowed class made/,
  );
  // Calling something that is not a global (a string) with REDUCE.
  assert.throws(
    () => unpickle(Uint8Array.from([0x80, 2, ...binunicode('os'), 0x29, 0x52, 0x2e])),
    /REDUCE at byte \d+ calls something that is not an allowed global/,
  );
  // Persistent ids are refused unless the caller resolves them.
  assert.throws(() => unpickle(Uint8Array.from([0x80, 2, ...binunicode('x'), 0x51, 0x2e])), /persistent id/);
  // INST resolves through the allow-list too.
  assert.throws(() => unpickle(Uint8Array.from([0x28, 0x69, ...ascii('os\nsystem\n'), 0x2e])), /refers to os\.system/);
});

test('unknown opcodes and truncated pickles give clear errors', () => {
  assert.throws(
    () => unpickle(Uint8Array.from([0x80, 2, 0xff, 0x2e]), { filename: 'f.pkl' }),
    /f\.pkl: unknown pickle opcode 0xff at byte 2/,
  );
  assert.throws(() => unpickle(Uint8Array.from([0x80, 2, 0x7e, 0x2e])), /unknown pickle opcode 0x7e '~' at byte 2/);
  const good = hex(PY_PROTO2);
  for (const cut of [1, 3, 10, 40, good.length - 1]) {
    assert.throws(
      () => unpickle(good.subarray(0, cut), { filename: 'cut.pkl' }),
      (e: Error) => e.message.startsWith('cut.pkl: truncated pickle'),
      `cut at ${cut}`,
    );
  }
  assert.throws(() => unpickle(new Uint8Array(0)), /truncated pickle/);
  // A length field larger than the data.
  assert.throws(() => unpickle(Uint8Array.from([0x80, 2, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x61])), /truncated pickle: BINUNICODE/);
  // Stack misuse.
  assert.throws(() => unpickle(Uint8Array.from([0x80, 2, 0x74, 0x2e])), /TUPLE at byte 2 without a MARK/);
  assert.throws(() => unpickle(Uint8Array.from([0x80, 2, 0x68, 5, 0x2e])), /memo entry 5/);
});

test('PyGlobal / PyReduce are written as GLOBAL + REDUCE and memoized', () => {
  const g = new PyGlobal('collections', 'OrderedDict');
  const bytes = pickle([new PyReduce(g, []), new PyReduce(g, [])]);
  const text = Buffer.from(bytes).toString('latin1');
  assert.equal(text.split('collections\nOrderedDict\n').length - 1, 1);
  const v = unpickle(bytes) as unknown[];
  assert.ok(v[0] instanceof Map && v[1] instanceof Map);
});

test('values the protocol-2 writer cannot express are rejected', () => {
  assert.throws(() => pickle(Symbol('x') as unknown as null), /cannot write/);
  assert.throws(() => pickle(new Uint8Array(2) as unknown as null), /cannot write/);
});
