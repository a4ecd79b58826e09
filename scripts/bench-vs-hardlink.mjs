#!/usr/bin/env node
/**
 * pycstore side by side with util-linux `hardlink` (the anchor), on the project's corpora
 * (scripts/build-corpus.py), in interleaved rounds; prints the ratios (medians).
 *
 *   npm run build
 *   node scripts/bench-vs-hardlink.mjs --work /tmp/bench [--corpus-pip DIR] [--corpus-uv DIR]
 *        [--rounds 5] [--only first,bytes,rescan,rss,fill] [--big-copies 10] [--out FILE]
 *        [--baseline OTHER/dist/cli.js]
 *
 * Without --corpus-pip/--corpus-uv, the corpora are built under WORK (6 venvs of Python 3.11 each,
 * full package set, pip and uv layouts). They are never modified: every run works on a fresh `cp -a`.
 * Every timed command runs after `sync`, through /usr/bin/time (wall, user+sys, peak RSS).
 * pycstore scans each tree as it is (`dedup --no-discover PATH`), as hardlink does.
 * --baseline: another build of pycstore (e.g. an older commit's dist/cli.js) also runs in the
 * first-run rounds, on its own copy and store, so the speedup between the two shows.
 *
 *   first   canonical first run, `pycstore dedup` on a copy of the corpus, vs `hardlink -c -i '\.pyc$'`
 *           on a copy of its byte-identical twin: the corpus after one pycstore run, copied without
 *           hard links (`cp -R`), so every pyc holds its canonical object's bytes and copies are
 *           identical exactly where pycstore shares them. Also the cores busy (user+sys over wall,
 *           and the median of 0.5 s samples of /proc/PID/stat while it runs).
 *   bytes   `pycstore dedup --byte-identical` vs `hardlink -c -i '\.pyc$'` on 3 `cp -a` copies of one venv.
 *   rss     peak RSS of a first run over 1 and --big-copies copies of the uv corpus (~32,500 and ~325,000
 *           pycs), and bytesRead against the pyc bytes (each pyc read once; sources only when hashed).
 *   rescan  a no-op rescan of the --big-copies tree (after its first run) vs
 *           `find DIR -printf '%i %s %T@ %C@\n'` of the same tree; bytesRead must be 0.
 *   fill    `pycstore dedup --fill` of a uv venv without pycs whose bodies are all in the store
 *           (the store filled by --fill of a sibling venv) vs `python -m compileall` of the same venv.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO, 'dist', 'cli.js');
const { values: opt } = parseArgs({
  options: {
    work: { type: 'string' },
    'corpus-pip': { type: 'string' },
    'corpus-uv': { type: 'string' },
    rounds: { type: 'string', default: '5' },
    only: { type: 'string', default: 'first,bytes,rss,rescan,fill' },
    'big-copies': { type: 'string', default: '10' },
    out: { type: 'string' },
    baseline: { type: 'string' },
  },
});
if (!opt.work) {
  console.error('usage: node scripts/bench-vs-hardlink.mjs --work DIR [--corpus-pip DIR] [--corpus-uv DIR] [--rounds N] [--only first,bytes,rss,rescan,fill] [--big-copies N] [--out FILE]');
  process.exit(2);
}
if (!existsSync(CLI)) {
  console.error('dist/ is missing: run npm run build first');
  process.exit(2);
}
const WORK = path.resolve(opt.work);
const ROUNDS = Number(opt.rounds);
const ONLY = new Set(opt.only.split(','));
const log = (...a) => console.error(...a);
const CHILD_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PYTHON') && k !== 'SOURCE_DATE_EPOCH' && k !== 'VIRTUAL_ENV'));
mkdirSync(WORK, { recursive: true });

// --- helpers ---------------------------------------------------------------------------------

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sh = (cmd, args, o = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], ...o });
/** Remove a tree (rm -rf: Node's recursive rmSync is several times slower on a corpus of 100,000 files). */
const fresh = (dir) => execFileSync('rm', ['-rf', '--', dir]);
const copy = (from, to, ...flags) => {
  fresh(to);
  mkdirSync(path.dirname(to), { recursive: true });
  sh('cp', [...(flags.length ? flags : ['-a']), from, to]);
};
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU seconds (user+sys) of a process and its threads, from /proc. */
function cpuOf(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / TICKS;
  } catch {
    return undefined;
  }
}

/**
 * Run a command through /usr/bin/time after `sync`: wall, cpu (user+sys), peak RSS (MiB), stdout,
 * and the cores it kept busy (median of 0.5 s samples of its /proc/PID/stat).
 */
async function timed(argv, o = {}) {
  sh('sync', []);
  const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', ...argv], { env: o.env ?? process.env, cwd: o.cwd ?? WORK, stdio: ['ignore', o.stdout === 'ignore' ? 'ignore' : 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const samples = [];
  let last;
  const timer = setInterval(() => {
    let kid;
    try {
      kid = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0];
    } catch {
      return;
    }
    const c = kid ? cpuOf(kid) : undefined;
    const t = performance.now() / 1000;
    if (c !== undefined && last) samples.push((c - last.c) / (t - last.t));
    if (c !== undefined) last = { c, t };
  }, 500);
  const code = await new Promise((r) => child.on('close', r));
  clearInterval(timer);
  const [wall, user, sys, rss] = stderr.trim().split('\n').pop().split(' ').map(Number);
  if (code !== 0 && !o.allowFail) throw new Error(`${argv.join(' ')} exited ${code}: ${stderr.slice(-2000)}`);
  return { code, wall, cpu: user + sys, rssMiB: rss / 1024, stdout, coresMedian: median(samples.slice(1, -1).length ? samples.slice(1, -1) : samples) };
}

/** `args` with --no-discover after the command name (every tree here is scanned as it is). */
const plain = (args) => {
  const i = args.indexOf('dedup');
  return i < 0 ? args : [...args.slice(0, i + 1), '--no-discover', ...args.slice(i + 1)];
};
const pycstore = (args, o, cli = CLI) => timed(['node', cli, ...plain(args)], o);

/** Total bytes and count of the pycs under `dir` (find's sizes). */
function pycBytes(dir) {
  const out = execFileSync('find', [dir, '-name', '*.pyc', '-type', 'f', '-printf', '%s\n'], { maxBuffer: 1 << 30 }).toString().trim().split('\n').filter(Boolean);
  return { files: out.length, bytes: out.reduce((a, b) => a + Number(b), 0) };
}

function corpus(layout, given) {
  if (given) return path.resolve(given);
  const dir = path.join(WORK, `corpus-${layout}`);
  if (!existsSync(path.join(dir, 'corpus.json'))) {
    log(`building the ${layout} corpus in ${dir} (6 venvs of Python 3.11) …`);
    sh('python3', [path.join(REPO, 'scripts', 'build-corpus.py'), '--out', dir, '--layout', layout, '--packages', 'full', '--pythons', '3.11', '--force'], { stdio: 'inherit', env: CHILD_ENV });
  }
  return dir;
}

const results = { machine: `${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, node ${process.version}`, loadStart: load(), sections: {} };
const rows = [];
const ratio = (a, b) => +(a / b).toFixed(2);

// --- first run vs hardlink on the byte-identical twin -------------------------------------------

async function firstRun(layout, src) {
  const base = path.join(WORK, `first-${layout}`);
  mkdirSync(base, { recursive: true });
  const twin = path.join(base, 'twin');
  if (!existsSync(twin)) {
    log(`[first/${layout}] making the byte-identical twin …`);
    copy(src, path.join(base, 'canon'));
    sh('node', [CLI, ...plain(['--store', path.join(base, 'canon-store'), 'dedup', path.join(base, 'canon', 'venvs')])]);
    sh('cp', ['-R', '--preserve=mode,ownership,timestamps', path.join(base, 'canon'), twin]);
    fresh(path.join(base, 'canon'));
    fresh(path.join(base, 'canon-store'));
  }
  const p = [];
  const h = [];
  const b = [];
  for (let r = 0; r < ROUNDS; r++) {
    const three = async () => {
      if (!opt.baseline) return;
      copy(src, path.join(base, 'run'));
      fresh(path.join(base, 'store'));
      const t = await pycstore(['--store', path.join(base, 'store'), '--json', 'dedup', path.join(base, 'run', 'venvs')], {}, path.resolve(opt.baseline));
      const j = JSON.parse(t.stdout);
      b.push({ ...t, stdout: undefined, linked: j.linked, files: j.files, bytesRead: j.bytesRead });
    };
    const one = async () => {
      copy(src, path.join(base, 'run'));
      fresh(path.join(base, 'store'));
      const t = await pycstore(['--store', path.join(base, 'store'), '--json', 'dedup', path.join(base, 'run', 'venvs')]);
      const j = JSON.parse(t.stdout);
      p.push({ ...t, stdout: undefined, linked: j.linked, files: j.files, bytesRead: j.bytesRead });
    };
    const two = async () => {
      copy(twin, path.join(base, 'hl'));
      h.push({ ...(await timed(['hardlink', '-c', '-q', '-i', '\\.pyc$', path.join(base, 'hl')], { stdout: 'ignore' })), stdout: undefined });
    };
    const order = [[one, two, three], [two, three, one], [three, one, two]][r % 3];
    for (const f of order) await f();
    const base_ = b.length ? ` · baseline ${b.at(-1).wall}s (cpu ${b.at(-1).cpu.toFixed(1)}s, ${b.at(-1).rssMiB.toFixed(0)} MiB)` : '';
    log(`[first/${layout}] round ${r + 1}: pycstore ${p.at(-1).wall}s (cpu ${p.at(-1).cpu.toFixed(1)}s, ${p.at(-1).rssMiB.toFixed(0)} MiB) · hardlink ${h.at(-1).wall}s (cpu ${h.at(-1).cpu.toFixed(1)}s)${base_} · load ${load()}`);
  }
  fresh(path.join(base, 'run'));
  fresh(path.join(base, 'hl'));
  const m = (xs, k) => median(xs.map((x) => x[k]));
  const s = { pycs: p[0].files, pycstore: { wall: m(p, 'wall'), cpu: m(p, 'cpu'), rssMiB: m(p, 'rssMiB'), cores: +(m(p, 'cpu') / m(p, 'wall')).toFixed(2), coresMedian: +m(p, 'coresMedian').toFixed(2) }, hardlink: { wall: m(h, 'wall'), cpu: m(h, 'cpu'), rssMiB: m(h, 'rssMiB') } };
  if (b.length) s.baseline = { wall: m(b, 'wall'), cpu: m(b, 'cpu'), rssMiB: m(b, 'rssMiB'), linked: b[0].linked };
  results.sections[`first-${layout}`] = { ...s, rounds: { pycstore: p, hardlink: h, baseline: b } };
  if (b.length) rows.push([`the same first run (${layout}), baseline build vs this one`, `wall ×${ratio(s.baseline.wall, s.pycstore.wall)}, CPU ×${ratio(s.baseline.cpu, s.pycstore.cpu)}, RSS ×${ratio(s.baseline.rssMiB, s.pycstore.rssMiB)} faster/smaller`, '']);
  rows.push([`canonical first run, ${layout} corpus (${s.pycs} pycs) vs hardlink -c on the twin`, `wall ×${ratio(s.pycstore.wall, s.hardlink.wall)}, CPU ×${ratio(s.pycstore.cpu, s.hardlink.cpu)}, RSS ×${ratio(s.pycstore.rssMiB, s.hardlink.rssMiB)}`, '≤ 2× wall, ≤ 8× CPU']);
  rows.push([`cores busy in that run (${layout})`, `${s.pycstore.cores} (user+sys / wall), ${s.pycstore.coresMedian} (median of 0.5 s samples)`, '≥ 1.7 of 2 during analysis']);
}

// --- --byte-identical on 3 cp -a copies ------------------------------------------------------------

async function byteIdentical(src) {
  const base = path.join(WORK, 'bytes');
  const venv = path.join(src, 'venvs', readdirSync(path.join(src, 'venvs')).sort()[0]);
  const make = (dir) => {
    fresh(dir);
    mkdirSync(dir, { recursive: true });
    for (const n of ['a', 'b', 'c']) sh('cp', ['-a', venv, path.join(dir, n)]);
  };
  const p = [];
  const h = [];
  for (let r = 0; r < ROUNDS; r++) {
    const one = async () => {
      make(path.join(base, 'run'));
      fresh(path.join(base, 'store'));
      const t = await pycstore(['--store', path.join(base, 'store'), '--json', 'dedup', '--byte-identical', path.join(base, 'run')]);
      p.push({ ...t, stdout: undefined, linked: JSON.parse(t.stdout).linked });
    };
    const two = async () => {
      make(path.join(base, 'hl'));
      h.push({ ...(await timed(['hardlink', '-c', '-q', '-i', '\\.pyc$', path.join(base, 'hl')], { stdout: 'ignore' })), stdout: undefined });
    };
    if (r % 2 === 0) (await one(), await two());
    else (await two(), await one());
    log(`[bytes] round ${r + 1}: pycstore ${p.at(-1).wall}s · hardlink ${h.at(-1).wall}s · load ${load()}`);
  }
  const m = (xs, k) => median(xs.map((x) => x[k]));
  results.sections.bytes = { pycstore: { wall: m(p, 'wall'), cpu: m(p, 'cpu') }, hardlink: { wall: m(h, 'wall'), cpu: m(h, 'cpu') }, rounds: { pycstore: p, hardlink: h } };
  rows.push([`--byte-identical, 3 cp -a copies of one venv vs hardlink -c`, `wall ×${ratio(m(p, 'wall'), m(h, 'wall'))}, CPU ×${ratio(m(p, 'cpu'), m(h, 'cpu'))}`, '≤ 1.5× wall']);
}

// --- peak RSS at 1 and N copies; the N-copy tree's no-op rescan vs find ------------------------------

function copies(src, dir, n) {
  fresh(dir);
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) sh('cp', ['-a', src, path.join(dir, `c${i}`)]);
}

async function rssAndRescan(src, bigCopies) {
  const base = path.join(WORK, 'scale');
  const out = {};
  for (const n of [1, bigCopies]) {
    const dir = path.join(base, `x${n}`);
    log(`[rss] ${n} cop${n === 1 ? 'y' : 'ies'} of the uv corpus …`);
    copies(src, dir, n);
    fresh(path.join(base, `store-${n}`));
    const expected = pycBytes(dir);
    const t = await pycstore(['--store', path.join(base, `store-${n}`), '--json', 'dedup', dir]);
    const j = JSON.parse(t.stdout);
    out[n] = { pycs: j.files, linked: j.linked, rssMiB: +t.rssMiB.toFixed(1), wall: t.wall, cpu: t.cpu, bytesRead: j.bytesRead, pycBytes: expected.bytes, coresMedian: +t.coresMedian.toFixed(2) };
    log(`[rss] ${j.files} pycs: peak RSS ${t.rssMiB.toFixed(0)} MiB, ${t.wall}s, bytesRead ${j.bytesRead} (pyc bytes ${expected.bytes})`);
  }
  results.sections.rss = out;
  const small = out[1];
  const big = out[bigCopies];
  rows.push([`peak RSS, first run: ${small.pycs} → ${big.pycs} pycs`, `${small.rssMiB} → ${big.rssMiB} MiB (${signedPercent(big.rssMiB / small.rssMiB - 1)})`, '≤ 300 MiB at 300,000; ≤ +20%']);
  rows.push([`bytesRead / pyc bytes (uv corpus: no source needs hashing)`, `${(small.bytesRead / small.pycBytes).toFixed(4)} and ${(big.bytesRead / big.pycBytes).toFixed(4)}`, '1 (each pyc once)']);
  if (!ONLY.has('rescan')) return;
  const dir = path.join(base, `x${bigCopies}`);
  const p = [];
  const f = [];
  for (let r = 0; r < ROUNDS; r++) {
    const one = async () => {
      const t = await pycstore(['--store', path.join(base, `store-${bigCopies}`), '--json', 'dedup', dir]);
      const j = JSON.parse(t.stdout);
      if (j.bytesRead !== 0 || j.linked !== 0) throw new Error(`the rescan read ${j.bytesRead} bytes and linked ${j.linked}`);
      p.push({ ...t, stdout: undefined, shared: j.shared });
    };
    const two = async () => f.push({ ...(await timed(['sh', '-c', `find "$1" -printf '%i %s %T@ %C@\\n' > /dev/null`, 'find', dir])), stdout: undefined });
    if (r % 2 === 0) (await one(), await two());
    else (await two(), await one());
    log(`[rescan] round ${r + 1}: pycstore ${p.at(-1).wall}s (${p.at(-1).rssMiB.toFixed(0)} MiB) · find ${f.at(-1).wall}s · load ${load()}`);
  }
  const m = (xs, k) => median(xs.map((x) => x[k]));
  results.sections.rescan = { pycs: p[0].shared, pycstore: { wall: m(p, 'wall'), cpu: m(p, 'cpu'), rssMiB: m(p, 'rssMiB') }, find: { wall: m(f, 'wall'), cpu: m(f, 'cpu') }, rounds: { pycstore: p, find: f } };
  rows.push([`no-op rescan of ${p[0].shared} pycs vs find -printf '%i %s %T@ %C@'`, `wall ×${ratio(m(p, 'wall'), m(f, 'wall'))} (bytesRead 0, ${m(p, 'rssMiB').toFixed(0)} MiB)`, '≤ 2×, bytesRead 0']);
  fresh(path.join(base, 'x1'));
}

// --- --fill vs compileall ----------------------------------------------------------------------------

async function fillVsCompileall(src) {
  const base = path.join(WORK, 'fill');
  copy(src, path.join(base, 'c'));
  const venvs = readdirSync(path.join(base, 'c', 'venvs')).sort().map((v) => path.join(base, 'c', 'venvs', v));
  const strip = (v) => sh('find', [v, '-name', '__pycache__', '-type', 'd', '-prune', '-exec', 'rm', '-rf', '{}', '+']);
  venvs.forEach(strip);
  const store = path.join(base, 'store');
  fresh(store);
  log('[fill] filling the store from a sibling venv (compiles once) …');
  sh('node', [CLI, ...plain(['--store', store, 'dedup', '--fill', venvs[0]])]);
  const site = (v) => path.join(v, 'lib', readdirSync(path.join(v, 'lib')).find((n) => n.startsWith('python')), 'site-packages');
  const p = [];
  const c = [];
  for (let r = 0; r < ROUNDS; r++) {
    const one = async () => {
      strip(venvs[1]);
      const t = await pycstore(['--store', store, '--json', 'dedup', '--fill', venvs[1]]);
      const j = JSON.parse(t.stdout);
      if (j.fill.compiled !== 0) throw new Error(`--fill compiled ${j.fill.compiled} sources: the store should have them all`);
      p.push({ ...t, stdout: undefined, filled: j.fill.filled });
    };
    const two = async () => {
      strip(venvs[2]);
      c.push({ ...(await timed([path.join(venvs[2], 'bin', 'python'), '-m', 'compileall', '-q', site(venvs[2])], { env: CHILD_ENV, allowFail: true, stdout: 'ignore' })), stdout: undefined });
    };
    if (r % 2 === 0) (await one(), await two());
    else (await two(), await one());
    log(`[fill] round ${r + 1}: pycstore --fill ${p.at(-1).wall}s (${p.at(-1).filled} pycs) · compileall ${c.at(-1).wall}s · load ${load()}`);
  }
  const m = (xs, k) => median(xs.map((x) => x[k]));
  results.sections.fill = { filled: p[0].filled, pycstore: { wall: m(p, 'wall'), cpu: m(p, 'cpu') }, compileall: { wall: m(c, 'wall'), cpu: m(c, 'cpu') }, rounds: { pycstore: p, compileall: c } };
  rows.push([`dedup --fill of a uv venv (${p[0].filled} pycs, all bodies in the store) vs python -m compileall`, `${ratio(m(c, 'wall'), m(p, 'wall'))}× faster (wall)`, '≥ 20×']);
}

// --- main ----------------------------------------------------------------------------------------

const pip = ONLY.has('first') ? corpus('pip', opt['corpus-pip']) : undefined;
const uv = corpus('uv', opt['corpus-uv']);
if (ONLY.has('first')) {
  await firstRun('pip', pip);
  await firstRun('uv', uv);
}
if (ONLY.has('bytes')) await byteIdentical(pip ?? uv);
if (ONLY.has('rss') || ONLY.has('rescan')) await rssAndRescan(uv, Number(opt['big-copies']));
if (ONLY.has('fill')) await fillVsCompileall(uv);
results.loadEnd = load();
results.rows = rows;

const table = ['| | pycstore vs anchor (medians of interleaved rounds) | target |', '|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
log(`\n${results.machine}; load average at start ${results.loadStart}, at end ${results.loadEnd}; ${ROUNDS} rounds\n\n${table}\n`);
if (opt.out) writeFileSync(opt.out, JSON.stringify(results, null, 2));
console.log(JSON.stringify(results.sections, (k, v) => (k === 'rounds' ? undefined : v), 2));

/** A change as a signed percentage: +24%, −5%. */
function signedPercent(change) {
  const p = Math.round(100 * change);
  return p < 0 ? `−${-p}%` : `+${p}%`;
}
