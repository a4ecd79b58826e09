#!/usr/bin/env node
/**
 * Benchmark pycstore on a corpus built by scripts/build-corpus.py.
 *
 *   node scripts/bench-corpus.mjs --corpus /tmp/corpus-pip --work /tmp/bench-pip [--rounds 15] [--no-import-check]
 *   node scripts/bench-corpus.mjs --fill --corpus /tmp/corpus-nopyc --work /tmp/bench-fill
 *
 * Needs `npx tsc -p .` first (it uses dist/). The corpus itself is never modified: two
 * copies are made under --work, one deduplicated ("after"), one left as installed ("before").
 *
 * dedup mode measures
 *   - total pyc bytes, the bytes of the distinct canonical pycs (computed here independently:
 *     every pyc's body canonicalized with its import-root-relative name, plus a 16-byte header
 *     that doesn't depend on the venv), reclaimable = total - distinct;
 *   - what `pycstore dedup` reclaims: total pyc bytes minus the bytes of the distinct inodes the
 *     venvs' pycs occupy afterwards (apparent and allocated), and its share of the reclaimable;
 *   - dedup's wall and CPU time (/usr/bin/time), and a rescan's;
 *   - the import check (scripts/corpus-import-check.py) before and after: every top-level module
 *     imports as before (same __file__, no new exception) and no pyc is rewritten;
 *   - import time of every top-level module in one process, before vs after, interleaved rounds.
 * --fill mode measures the first-import time of a venv without pycs (-B: every run compiles)
 * against the same venv after `pycstore dedup --fill`.
 * Results: JSON on stdout (and --out FILE), a Markdown summary on stderr.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(path.join(REPO, 'dist', p));
const { scanRoots } = await dist('python/scan.js');
const { parseHeader, HEADER_SIZE } = await dist('pyc/header.js');
const { canonicalize } = await dist('marshal/index.js');
const { initHash, xxh64Hex } = await dist('hash/xxhash.js');

const { values: opt } = parseArgs({
  options: {
    corpus: { type: 'string' },
    work: { type: 'string' },
    rounds: { type: 'string', default: '15' },
    fill: { type: 'boolean', default: false },
    'no-import-check': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
if (!opt.corpus || !opt.work) {
  console.error('usage: bench-corpus.mjs --corpus DIR --work DIR [--fill] [--rounds N] [--no-import-check] [--out FILE]');
  process.exit(2);
}
const corpus = JSON.parse(readFileSync(path.join(opt.corpus, 'corpus.json'), 'utf8'));
const rounds = Number(opt.rounds);
const log = (...a) => console.error(...a);
const CLI = path.join(REPO, 'dist', 'cli.js');
/** The environment of every Python child: nothing inherited that changes compilation. */
const CHILD_ENV = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('PYTHON') && k !== 'SOURCE_DATE_EPOCH' && k !== 'VIRTUAL_ENV'),
);
const IMPORT_CHECK = path.join(REPO, 'scripts', 'corpus-import-check.py');

rmSync(opt.work, { recursive: true, force: true });
mkdirSync(opt.work, { recursive: true });
const afterDir = path.join(opt.work, 'after');
const beforeDir = path.join(opt.work, 'before');
log(`copying the corpus twice into ${opt.work} …`);
execFileSync('cp', ['-a', opt.corpus, afterDir]);
execFileSync('cp', ['-a', opt.corpus, beforeDir]);
const venvsIn = (base) => corpus.venvs.map((v) => ({ ...v, dir: path.join(base, path.relative(opt.corpus, v.path)), python: path.join(base, path.relative(opt.corpus, v.venv_python)) }));
const after = venvsIn(afterDir);
const before = venvsIn(beforeDir);
const store = path.join(opt.work, 'store');

/** Every pyc under the venvs: path, inode, size, allocated. */
function pycStats(venvs) {
  const found = [];
  scanRoots(venvs.map((v) => ({ path: v.dir, pycachePrefix: null })), (d) => found.push(...d.pycs));
  return found.map((c) => {
    const st = lstatSync(c.path, { bigint: true });
    return { cand: c, ino: `${st.dev}:${st.ino}`, size: Number(st.size), alloc: Number(st.blocks) * 512 };
  });
}
/** A pyc's first HEADER_SIZE bytes (all parseHeader reads). */
function readHeader(file) {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(HEADER_SIZE);
    return buf.subarray(0, readSync(fd, buf, 0, HEADER_SIZE, 0));
  } finally {
    closeSync(fd);
  }
}
function distinctInodes(stats) {
  const seen = new Map();
  for (const s of stats) seen.set(s.ino, s);
  let size = 0;
  let alloc = 0;
  for (const s of seen.values()) {
    size += s.size;
    alloc += s.alloc;
  }
  return { inodes: seen.size, size, alloc };
}
function timeCmd(argv, env) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', ...argv], { env, encoding: 'utf8', maxBuffer: 1 << 28 });
  const last = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, wall: last[0], cpu: last[1] + last[2], maxRssKiB: last[3] };
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Seconds to import every top-level module of a venv in one fresh process (-B: nothing is written). */
const IMPORT_ALL = `
import sys, time, importlib, json, io, contextlib, warnings
warnings.simplefilter("ignore")
mods = json.loads(sys.argv[1])
t = time.perf_counter()
for m in mods:
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            importlib.import_module(m)
    except BaseException:
        pass
print(time.perf_counter() - t)
`;
function importTime(v) {
  const out = execFileSync(v.python, ['-B', '-I', '-c', IMPORT_ALL, JSON.stringify(v.modules)], { env: CHILD_ENV, cwd: opt.work, encoding: 'utf8' });
  return Number(out.trim().split('\n').pop());
}
/** Interleaved rounds: before and after alternate, venv by venv. Returns per-venv medians and the ratio of sums. */
function compareImports(a, b) {
  const ta = a.map(() => []);
  const tb = b.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < a.length; i++) {
      if ((r + i) % 2 === 0) {
        ta[i].push(importTime(a[i]));
        tb[i].push(importTime(b[i]));
      } else {
        tb[i].push(importTime(b[i]));
        ta[i].push(importTime(a[i]));
      }
    }
    log(`  import timing round ${r + 1}/${rounds}`);
  }
  const ma = ta.map(median);
  const mb = tb.map(median);
  const sa = ma.reduce((x, y) => x + y, 0);
  const sb = mb.reduce((x, y) => x + y, 0);
  return { beforeMs: ma.map((x) => +(x * 1000).toFixed(1)), afterMs: mb.map((x) => +(x * 1000).toFixed(1)), ratio: +(sb / sa).toFixed(4) };
}
function importCheck(vs, tag) {
  const files = [];
  for (const v of vs) {
    const f = path.join(opt.work, `imports-${tag}-${path.basename(v.dir)}.json`);
    execFileSync('python3', [IMPORT_CHECK, v.python, f, '--jobs', '2'], { env: CHILD_ENV, stdio: ['ignore', 'ignore', 'inherit'] });
    files.push(f);
  }
  return files;
}

await initHash();
const result = { corpus: opt.corpus, layout: corpus.venvs[0]?.layout, venvs: corpus.venvs.map((v) => `${path.basename(v.path)} (Python ${v.python_version})`), machine: `${process.arch}, ${os.cpus().length} cores` };

if (!opt.fill) {
  // 1. What is there, and what canonical dedup could reclaim at best; and, for comparison, byte-level
  // dedup (what hardlink/jdupes would find): identical whole files. Each pyc is read once for both.
  const stats = pycStats(after);
  const total = stats.reduce((a, s) => a + s.size, 0);
  const totalAlloc = distinctInodes(stats).alloc;
  const distinct = new Map();
  const raw = new Map();
  let uncanon = 0;
  for (const s of stats) {
    const bytes = readFileSync(s.cand.path);
    raw.set(xxh64Hex(bytes), s.size);
    const h = parseHeader(bytes);
    if (typeof h === 'string') continue;
    let body;
    try {
      body = canonicalize(bytes.subarray(HEADER_SIZE), h.version, s.cand.relName);
    } catch {
      uncanon++;
      body = bytes.subarray(HEADER_SIZE);
    }
    distinct.set(`${h.version.magic}:${s.cand.name.optimization}:${xxh64Hex(body)}:${body.length}`, HEADER_SIZE + body.length);
  }
  const distinctBytes = [...distinct.values()].reduce((a, b) => a + b, 0);
  Object.assign(result, {
    pycs: stats.length,
    totalBytes: total,
    totalAllocatedBytes: totalAlloc,
    rawIdenticalPairs: null,
    distinctCanonicalPycs: distinct.size,
    distinctCanonicalBytes: distinctBytes,
    reclaimableBytes: total - distinctBytes,
    reclaimablePercent: +((100 * (total - distinctBytes)) / total).toFixed(1),
    notCanonicalizable: uncanon,
  });
  log(`${stats.length} pycs, ${(total / 2 ** 20).toFixed(1)} MiB; ${distinct.size} distinct canonical pycs (${(distinctBytes / 2 ** 20).toFixed(1)} MiB); reclaimable ${result.reclaimablePercent}%`);
  result.byteIdenticalReclaimableBytes = total - [...raw.values()].reduce((a, b) => a + b, 0);

  let checkBefore = [];
  if (!opt['no-import-check']) {
    log('import check before …');
    checkBefore = importCheck(after, 'before');
  }

  // 2. pycstore dedup.
  log('pycstore dedup …');
  const d = timeCmd([process.execPath, CLI, '--store', store, '--json', 'dedup', ...after.map((v) => v.dir)], process.env);
  if (d.code !== 0) {
    log(d.stderr);
    throw new Error(`dedup exited ${d.code}`);
  }
  const report = JSON.parse(d.stdout);
  const postStats = pycStats(after);
  const post = distinctInodes(postStats);
  result.dedup = {
    wallSeconds: d.wall,
    cpuSeconds: +d.cpu.toFixed(2),
    maxRssMiB: +(d.maxRssKiB / 1024).toFixed(0),
    linked: report.linked,
    skipped: report.skipped,
    recompiled: report.recompiled,
    bytesRead: report.bytesRead,
    objects: post.inodes,
    storedBytes: post.size,
    storedAllocatedBytes: post.alloc,
    reclaimedBytes: total - post.size,
    reclaimedAllocatedBytes: totalAlloc - post.alloc,
    reclaimedOfReclaimablePercent: +((100 * (total - post.size)) / (total - distinctBytes)).toFixed(2),
  };
  const again = timeCmd([process.execPath, CLI, '--store', store, '--json', 'dedup', '--no-discover'], process.env);
  const r2 = JSON.parse(again.stdout);
  result.rescan = { wallSeconds: again.wall, cpuSeconds: +again.cpu.toFixed(2), linked: r2.linked, bytesRead: r2.bytesRead };
  log(`dedup: ${d.wall}s wall, ${d.cpu.toFixed(1)}s CPU; reclaimed ${result.dedup.reclaimedOfReclaimablePercent}% of the reclaimable; rescan ${again.wall}s`);

  // 3. Headers chosen (the rescan adds or removes no pyc, so postStats still lists them all).
  const headers = {};
  for (const s of postStats) {
    const h = parseHeader(readHeader(s.cand.path));
    const k = typeof h === 'string' ? h : h.invalidation;
    headers[k] = (headers[k] ?? 0) + 1;
  }
  result.headersAfter = headers;

  if (!opt['no-import-check']) {
    log('import check after …');
    const checkAfter = importCheck(after, 'after');
    const diffs = checkBefore.map((b, i) => {
      const r = spawnSync('python3', [IMPORT_CHECK, '--compare', b, checkAfter[i]], { encoding: 'utf8' });
      return { venv: path.basename(after[i].dir), same: r.status === 0, output: r.stdout.trim().split('\n').slice(0, 10) };
    });
    result.importCheck = { allSame: diffs.every((x) => x.same), venvs: diffs };
  }

  // 4. Import time of every top-level module: as installed vs after dedup (--rounds 0: skipped).
  if (rounds > 0) {
    log('import timing …');
    result.importTime = compareImports(before, after);
  }
} else {
  // --fill: first imports without pycs vs after dedup --fill.
  const f = timeCmd([process.execPath, CLI, '--store', store, '--json', 'dedup', '--fill', ...after.map((v) => v.dir)], process.env);
  if (f.code !== 0) {
    log(f.stderr);
    throw new Error(`dedup --fill exited ${f.code}`);
  }
  const report = JSON.parse(f.stdout);
  result.fill = { wallSeconds: f.wall, cpuSeconds: +f.cpu.toFixed(2), ...report.fill, objects: distinctInodes(pycStats(after)).inodes };
  log(`dedup --fill: ${f.wall}s wall; ${JSON.stringify(report.fill)}`);
  log('import timing (before: no pycs, compiled on every run) …');
  result.importTime = compareImports(before, after);
}

const json = JSON.stringify(result, null, 2);
if (opt.out) writeFileSync(opt.out, json);
process.stdout.write(`${json}\n`);
if (result.importTime) log(`import time after/before: ×${result.importTime.ratio}`);
