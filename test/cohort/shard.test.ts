// Cohorts split without Redis (`mmfd segment --shard i/n`, then `mmfd cohort report`), the shard split itself,
// and the --queue URL parser.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { segmentCommand } from '../../src/cli/segment.js';
import { parseRedisUrl } from '../../src/cohort/redis_url.js';
import { writeCohortReportFromFolder } from '../../src/cohort/report.js';
import { parseShard, shardSlides } from '../../src/cohort/shard.js';
import { listSlides } from '../../src/cohort/slide_list.js';
import { parseCsv } from '../../src/data/csv.js';
import { writeSyntheticSlide } from '../../src/synth/slide/slide.js';
import { truthSegmenter } from '../helpers/truth_segmenter.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfd-shard-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('--queue URLs: password, user, db, TLS; errors name the problem and hide the password', () => {
  const plain = parseRedisUrl('redis://:p%40ss@queue.lab:6380/2');
  assert.deepEqual(plain.options, { host: 'queue.lab', port: 6380, db: 2, password: 'p@ss' });
  assert.equal(plain.redacted, 'redis://:***@queue.lab:6380/2');
  const tls = parseRedisUrl('rediss://mmfd:secret@queue.lab');
  assert.deepEqual(tls.options, {
    host: 'queue.lab',
    port: 6379,
    db: 0,
    username: 'mmfd',
    password: 'secret',
    tls: { servername: 'queue.lab' },
  });
  assert.equal(tls.redacted, 'rediss://mmfd:***@queue.lab');
  assert.deepEqual(parseRedisUrl('rediss://127.0.0.1:7000').options.tls, {});
  for (const [url, message] of [
    ['http://:pw@host', /--queue http:\/\/:\*\*\*@host: the scheme is redis:\/\/ or rediss:\/\/ \(TLS\), not http:\/\//],
    ['redis://host/jobs', /the database is a number 0-15 \(got 'jobs'\)/],
    ['redis://host/16', /the database is a number 0-15/],
    ['host:6379', /the scheme is redis/],
    ['redis://:pw@', /not a URL|no host/],
  ] as const)
    assert.throws(
      () => parseRedisUrl(url),
      (err: Error) => message.test(err.message) && !err.message.includes('pw'),
    );
});

test('--shard i/n: largest slides first to the least loaded part, list order kept, every slide in one part', () => {
  assert.deepEqual(parseShard('2/4'), { index: 2, count: 4 });
  for (const bad of ['0/4', '5/4', '1/0', 'a/b', '2']) assert.throws(() => parseShard(bad), /--shard needs i\/n with 1 <= i <= n/);
  const bytes = [10, 9, 8, 1, 1, 1];
  const slides = bytes.map((_, k) => ({ path: `s${k}`, name: `s${k}` }));
  const size = (p: string) => bytes[Number(p.slice(1))]!;
  // By hand: 10 -> part 1; 9 -> part 2; 8 -> part 2 (9 < 10); each 1 -> part 1 (10, 11, 12 < 17).
  assert.deepEqual(
    shardSlides(slides, { index: 1, count: 2 }, size).map((s) => s.name),
    ['s0', 's3', 's4', 's5'],
  );
  assert.deepEqual(
    shardSlides(slides, { index: 2, count: 2 }, size).map((s) => s.name),
    ['s1', 's2'],
  );
  const parts = [1, 2, 3].map((index) => shardSlides(slides, { index, count: 3 }, size).map((s) => s.name));
  assert.deepEqual(parts.flat().sort(), slides.map((s) => s.name).sort());
  assert.deepEqual(
    shardSlides(slides, { index: 1, count: 1 }, size).map((s) => s.name),
    slides.map((s) => s.name),
  );
});

describe('shards of a cohort, merged by cohort report', async () => {
  const slides = join(dir, 'slides');
  mkdirSync(slides);
  for (const [k, name] of ['a', 'b', 'c'].entries())
    await writeSyntheticSlide({ out: join(slides, `${name}.tif`), width: 260 + 60 * k, height: 240, seed: 20 + k, mpp: 1 });
  writeFileSync(join(slides, 'broken.svs'), 'this is not a slide');
  const reference = join(dir, 'reference');
  const out = join(dir, 'out');
  const segment = (args: string[]) => segmentCommand(async () => truthSegmenter()).run(args);

  test('two shards then cohort report: the one-machine cohort.csv and report.html', async () => {
    assert.equal(await segment([slides, '--out', reference]), 1);
    const [first, second] = [1, 2].map((index) => shardSlides(listSlides(slides), { index, count: 2 }).map((s) => s.name));
    assert.ok(first!.length > 0 && second!.length > 0);
    const exitCode = (part: string[]) => (part.includes('broken') ? 1 : 0);
    assert.equal(await segment([slides, '--out', out, '--shard', '1/2']), exitCode(first!));
    // Before the other shard has run: its slides are listed as not finished.
    const partial = await writeCohortReportFromFolder(out);
    for (const o of partial)
      if (second!.includes(o.name)) assert.match(o.error!, new RegExp(`^not finished: no manifest in .*out/${o.name}$`));
      else assert.equal(o.status, o.name === 'broken' ? 'failed' : 'done');
    assert.equal(await segment([slides, '--out', out, '--shard', '2/2']), exitCode(second!));
    const outcomes = await writeCohortReportFromFolder(out);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['done', 'done', 'failed', 'done'],
    );
    for (const f of ['cohort.csv', 'report.html'])
      assert.equal(readFileSync(join(out, f), 'utf8'), readFileSync(join(reference, f), 'utf8'), f);
  });

  test('a folder from a one-machine run (no cohort list): a row per finished slide folder', async () => {
    const outcomes = await writeCohortReportFromFolder(reference);
    assert.deepEqual(
      outcomes.map((o) => o.name),
      ['a', 'b', 'c'],
    );
    const rows = parseCsv(readFileSync(join(reference, 'cohort.csv'), 'utf8'), 'cohort.csv');
    assert.equal(rows.length, 4);
    await assert.rejects(writeCohortReportFromFolder(join(dir, 'none')), /none: no such output folder/);
  });
});
