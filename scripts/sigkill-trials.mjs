#!/usr/bin/env node
/**
 * Seeded SIGKILL trials: pycstore killed at a random point of its run, then checked by an
 * independent checker (scripts/check-venv-equivalence.py: CPython's own marshal.loads,
 * _imp._fix_co_filename and ==, and importlib's header rules).
 *
 *   npx tsc -p . && sudo node scripts/sigkill-trials.mjs [--trials 10] [--seed 1] [--fs ext4,xfs]
 *        [--commands dedup-first,dedup-incremental,gc,unshare,verify-repair] [--work DIR] [--json]
 *
 * The documented full run is --trials 200. Needs root (loop-mounted ext4 and XFS images: hard
 * links on ext4, reflinks on XFS with reflink=1), strace, mkfs.ext4, mkfs.xfs, python3 (3.11) and,
 * if present, a CPython 3.12 (pyenv) for a venv of another version.
 *
 * Each trial takes fresh `cp -a` copies of real venvs (python -m venv, pip from ensurepip) onto
 * the filesystem, runs the command's preparation to completion (e.g. a dedup before a gc), then
 * runs the command under `strace -e inject=SYSCALL:signal=SIGKILL:when=N`: the process is
 * SIGKILLed when it enters its N-th call of SYSCALL (rename, link, unlink, pwrite64, fdatasync,
 * ioctl, ...). SYSCALL and N are drawn from the seed, weighted by how often an uninterrupted run
 * of the same command makes each call (measured once per command and filesystem, with strace), so
 * the kill points spread over the whole run. Commands and filesystems take turns.
 *
 * Checked after the kill: no venv path went missing (the checker; and a watcher process that
 * lstat()s every venv path in a loop while the command runs), every pyc loads to code equal to
 * the original's and has a header CPython accepts, every other file is byte-for-byte unchanged,
 * every venv's top-level modules import (for verify --repair, whose object was corrupted on purpose
 * under the venvs' hard links, once the repair is complete). Then the same command runs again and must complete
 * (exit 0), `verify --full` must exit 0, `audit` must find no store problem, and the checker runs
 * once more (now no temp name may be left). Prints a table per command × filesystem; with --json
 * one JSON object on stdout. Exit status 0 when every trial passed, 1 otherwise, 2 when it can't run.
 *
 * --sabotage I (a self-test of the checks): after the kill in trial I, one venv pyc is deleted and
 * another replaced by a valid pyc of different code; that trial must then fail as lost and corrupted.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readSync, writeSync, rmSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO, 'dist', 'cli.js');
const CHECKER = path.join(REPO, 'scripts', 'check-venv-equivalence.py');
const ALL_COMMANDS = ['dedup-first', 'dedup-incremental', 'gc', 'unshare', 'verify-repair'];
const SYSCALLS = ['rename', 'renameat', 'renameat2', 'link', 'linkat', 'unlink', 'unlinkat', 'pwrite64', 'write', 'fdatasync', 'fsync', 'ioctl', 'fchmod', 'chmod', 'utimensat', 'mkdir'];

const { values: opt } = parseArgs({
  options: {
    trials: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    fs: { type: 'string', default: 'ext4,xfs' },
    commands: { type: 'string', default: ALL_COMMANDS.join(',') },
    work: { type: 'string' },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    sabotage: { type: 'string' },
  },
});
const TRIALS = Number(opt.trials);
const SEED = Number(opt.seed);
const SABOTAGE = opt.sabotage === undefined ? undefined : Number(opt.sabotage);
const FILESYSTEMS = opt.fs.split(',').filter(Boolean);
const COMMANDS = opt.commands.split(',').filter(Boolean);
const log = (m) => process.stderr.write(`${m}\n`);

function refuse(why) {
  log(`sigkill-trials: ${why}`);
  process.exit(2);
}

// ------------------------------------------------------------------ preconditions

function which(tool) {
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin']) {
    if (d && existsSync(path.join(d, tool))) return path.join(d, tool);
  }
  return undefined;
}

function preconditions() {
  if (!Number.isInteger(TRIALS) || TRIALS < 1) refuse('--trials must be a whole number ≥ 1');
  if (!Number.isInteger(SEED)) refuse('--seed must be a whole number');
  for (const c of COMMANDS) if (!ALL_COMMANDS.includes(c)) refuse(`unknown command "${c}" (${ALL_COMMANDS.join(', ')})`);
  for (const f of FILESYSTEMS) if (f !== 'ext4' && f !== 'xfs') refuse(`unknown filesystem "${f}" (ext4, xfs)`);
  if (process.platform !== 'linux' || process.geteuid?.() !== 0) refuse('needs Linux and root (loop-mounted filesystems)');
  for (const t of ['strace', 'mount', 'umount', 'mkfs.ext4', ...(FILESYSTEMS.includes('xfs') ? ['mkfs.xfs'] : [])]) {
    if (!which(t)) refuse(`${t} not found (apt-get install strace e2fsprogs xfsprogs mount)`);
  }
  if (!existsSync(CLI)) refuse(`${CLI} is missing: run npx tsc -p . first`);
}

// ------------------------------------------------------------------ seeded choices

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A syscall weighted by its count in an uninterrupted run, and N uniform in 1..(its count in the thread
 * making the most of them): strace's `when=N` counts each thread's calls on their own, and dedup and
 * unshare spread theirs over the libuv pool's threads.
 */
function killPoint(rand, counts) {
  const entries = Object.entries(counts).filter(([, c]) => c.total > 0);
  const total = entries.reduce((s, [, c]) => s + c.total, 0);
  let pick = rand() * total;
  for (const [syscall, c] of entries) {
    if (pick < c.total) return { syscall, n: 1 + Math.min(c.perThread - 1, Math.floor(rand() * c.perThread)) };
    pick -= c.total;
  }
  const [syscall, c] = entries[entries.length - 1];
  return { syscall, n: c.perThread };
}

// ------------------------------------------------------------------ filesystems

const mounted = [];

function mountFs(kind, base) {
  const dir = path.join(base, kind);
  mkdirSync(dir, { recursive: true });
  const image = path.join(dir, 'image');
  const mnt = path.join(dir, 'mnt');
  mkdirSync(mnt, { recursive: true });
  const fd = openSync(image, 'w');
  closeSync(fd);
  execFileSync('truncate', ['-s', kind === 'xfs' ? '600M' : '400M', image]);
  if (kind === 'xfs') execFileSync(which('mkfs.xfs'), ['-q', '-f', '-m', 'reflink=1', image]);
  else execFileSync(which('mkfs.ext4'), ['-q', '-F', image]);
  execFileSync('mount', ['-o', 'loop', image, mnt]); // loop device auto-cleared at umount
  mounted.push(mnt);
  chmodSync(mnt, 0o755);
  return mnt;
}

function unmountAll() {
  for (const mnt of mounted.splice(0)) spawnSync('umount', ['-l', mnt]);
}

// ------------------------------------------------------------------ venvs, snapshots, checks

function pythonEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PYTHON') || k === 'SOURCE_DATE_EPOCH' || k === 'VIRTUAL_ENV') delete env[k];
  return env;
}

function findPython312() {
  const root = path.join(process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv'), 'versions');
  if (!existsSync(root)) return undefined;
  const v = spawnSync('ls', [root]).stdout.toString().split('\n').filter((n) => /^3\.12\.\d+$/.test(n)).sort().pop();
  const exe = v && path.join(root, v, 'bin', 'python3.12');
  return exe && existsSync(exe) ? exe : undefined;
}

/** Templates on the host: A and B are 3.11 venvs (B a copy of A: the same pycs, another path), C a 3.12 one. */
function makeTemplates(base) {
  const t = path.join(base, 'templates');
  mkdirSync(t, { recursive: true });
  execFileSync('python3', ['-m', 'venv', path.join(t, 'A')], { env: pythonEnv() });
  execFileSync('cp', ['-a', path.join(t, 'A'), path.join(t, 'B')]);
  const py312 = findPython312();
  if (py312) execFileSync(py312, ['-m', 'venv', path.join(t, 'C')], { env: pythonEnv() });
  else {
    log('sigkill-trials: no CPython 3.12 under pyenv: venv C is a third 3.11 venv');
    execFileSync('python3', ['-m', 'venv', path.join(t, 'C')], { env: pythonEnv() });
  }
  return t;
}

const VENVS = ['A', 'B', 'C'];
const py = (venv) => path.join(venv, 'bin', 'python');

function sitePackages(venv) {
  const lib = path.join(venv, 'lib');
  const ver = spawnSync('ls', [lib]).stdout.toString().trim().split('\n')[0];
  return path.join(lib, ver, 'site-packages');
}

function runJson(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { env: pythonEnv(), maxBuffer: 1 << 28, ...opts });
  let json;
  try {
    json = JSON.parse(r.stdout.toString());
  } catch {
    json = undefined;
  }
  return { code: r.status, signal: r.signal, stdout: r.stdout.toString(), stderr: r.stderr.toString(), json };
}

function checkTree(trial, snapDir, opts) {
  const problems = [];
  for (const v of VENVS) {
    const venv = path.join(trial.dir, v);
    if (trial.removed.includes(v)) continue;
    const args = [CHECKER, 'compare', path.join(snapDir, `${v}.json`)];
    for (const p of trial.ignore) if (p.startsWith(venv + path.sep)) args.push('--ignore', p);
    if (opts.allowNew) args.push('--allow-new');
    const r = runJson(py(venv), [...args, venv]);
    if (!r.json) problems.push({ path: venv, kind: 'checker-failed', detail: r.stderr.slice(-500) });
    else problems.push(...r.json.problems);
  }
  return problems;
}

function checkImports(trial) {
  const failed = [];
  for (const v of VENVS) {
    const venv = path.join(trial.dir, v);
    if (!existsSync(venv)) continue;
    const r = runJson(py(venv), [CHECKER, 'imports', sitePackages(venv)]);
    if (!r.json) failed.push({ module: v, error: r.stderr.slice(-300) });
    else failed.push(...r.json.problems.map((p) => ({ ...p, venv: v })));
  }
  return failed;
}

// ------------------------------------------------------------------ pycstore runs

function cli(store, args) {
  const r = spawnSync(process.execPath, [CLI, '--store', store, '--json', ...args], { env: { ...process.env, CI: 'true' }, maxBuffer: 1 << 28 });
  let json;
  try {
    json = JSON.parse(r.stdout.toString());
  } catch {
    json = undefined;
  }
  return { code: r.status, stderr: r.stderr.toString(), json };
}

/**
 * The run under strace (-f: the libuv pool's threads too, where dedup and unshare swap files): killed at
 * the N-th call of `kill.syscall` (strace counts per thread), or counting calls when kill is undefined.
 */
function straced(store, args, kill, countFile) {
  const s = kill
    ? ['-qq', '-f', '-o', '/dev/null', '-e', `trace=${kill.syscall}`, '-e', `inject=${kill.syscall}:signal=SIGKILL:when=${kill.n}`]
    : ['-qq', '-f', '-o', countFile, '-e', `trace=${SYSCALLS.join(',')}`];
  return new Promise((resolve) => {
    const child = spawn('strace', [...s, process.execPath, CLI, '--store', store, '--json', ...args], {
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** Per syscall: calls in all, and calls in the thread that made the most (strace -f starts each line with the thread id). */
function countSyscalls(file) {
  const byThread = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(?:(\d+)\s+)?([a-z0-9_]+)\(/.exec(line);
    if (!m || !SYSCALLS.includes(m[2])) continue;
    const threads = (byThread[m[2]] ??= {});
    threads[m[1] ?? '0'] = (threads[m[1] ?? '0'] ?? 0) + 1;
  }
  const counts = {};
  for (const [syscall, threads] of Object.entries(byThread)) {
    const n = Object.values(threads);
    counts[syscall] = { total: n.reduce((a, b) => a + b, 0), perThread: Math.max(...n) };
  }
  return counts;
}

/** A process that lstat()s every path in the list, over and over, until told to stop; reports the ones it found missing. */
function startWatcher(listFile) {
  const code = `
    const fs = require('fs');
    const paths = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
    const missing = new Set(); let loops = 0; let stop = false;
    process.stdin.on('data', () => { stop = true; });
    process.stdin.on('end', () => { stop = true; });
    const round = () => {
      for (const p of paths) { try { fs.lstatSync(p); } catch (e) { if (e.code === 'ENOENT') missing.add(p); } }
      loops++;
      if (stop) { process.stdout.write(JSON.stringify({ loops, missing: [...missing] })); return; }
      setImmediate(round);
    };
    process.stdout.write('ready\\n');
    round();`;
  const child = spawn(process.execPath, ['-e', code, listFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  // A watcher that dies early is reported by the trial (its passes and result are missing), never an
  // unhandled EPIPE on its stdin that ends this script without a word.
  child.stdin.on('error', () => {});
  const closed = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.startsWith('ready\n')) resolve();
    });
    void closed.then(({ code, signal }) => reject(new Error(`the watcher exited (${signal ?? code}) before it was ready`)));
  });
  return {
    ready,
    stop: async () => {
      child.stdin.end('stop');
      const { code, signal } = await closed;
      try {
        return JSON.parse(out.slice('ready\n'.length));
      } catch {
        return { loops: 0, missing: [], died: `the watcher exited (${signal ?? code}) without its result` };
      }
    },
  };
}

// ------------------------------------------------------------------ scenarios

function freshTrialDir(mnt, templates) {
  const dir = path.join(mnt, 'venvs');
  rmSync(dir, { recursive: true, force: true });
  rmSync(path.join(mnt, 'store'), { recursive: true, force: true });
  mkdirSync(dir);
  for (const v of VENVS) execFileSync('cp', ['-a', path.join(templates, v), path.join(dir, v)]);
  return { dir, store: path.join(mnt, 'store'), ignore: [], removed: [] };
}

const all = (t) => VENVS.map((v) => path.join(t.dir, v));

function must(r, what) {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.slice(-800)}`);
  return r;
}

/** Hard-linked names of the object behind a venv pyc (all share its inode): what verify --repair removes on purpose. */
function namesOfInode(trial, file) {
  const ino = statSync(file).ino;
  const out = [];
  for (const v of VENVS) {
    const r = spawnSync('find', [path.join(trial.dir, v), '-inum', String(ino)]);
    out.push(...r.stdout.toString().split('\n').filter(Boolean));
  }
  return out;
}

/** What a trial runs: a preparation run to completion, then the command that gets killed. */
const SCENARIOS = {
  'dedup-first': {
    prepare: () => undefined,
    args: (t) => ['dedup', ...all(t)],
  },
  'dedup-incremental': {
    prepare: (t) => {
      must(cli(t.store, ['dedup', path.join(t.dir, 'A'), path.join(t.dir, 'B')]), 'dedup A B');
      // An upgrade-like change: pip's own pycs in A are compiled again (links broken), and C is new.
      const sp = sitePackages(path.join(t.dir, 'A'));
      execFileSync(py(path.join(t.dir, 'A')), ['-m', 'compileall', '-q', '-f', path.join(sp, 'pip', '_internal')], { env: pythonEnv() });
    },
    args: (t) => ['dedup', ...all(t)],
  },
  gc: {
    prepare: (t) => {
      must(cli(t.store, ['dedup', ...all(t)]), 'dedup');
      rmSync(path.join(t.dir, 'C'), { recursive: true }); // its objects become garbage
      t.removed.push('C');
    },
    args: () => ['gc', '--grace', '0'],
  },
  unshare: {
    prepare: (t) => must(cli(t.store, ['dedup', ...all(t)]), 'dedup'),
    args: (t) => ['unshare', path.join(t.dir, 'A'), path.join(t.dir, 'C')],
  },
  'verify-repair': {
    prepare: (t) => {
      must(cli(t.store, ['dedup', ...all(t)]), 'dedup');
      const pyc = path.join(sitePackages(path.join(t.dir, 'A')), 'pip', '__pycache__', '__init__.cpython-311.pyc');
      const info = must(cli(t.store, ['audit', pyc]), 'audit FILE').json.files[0];
      const object = info.objectPath;
      if (info.kind === 'hardlink') t.ignore.push(...namesOfInode(t, pyc)); // corrupt with the object: removed on purpose
      chmodSync(object, 0o644);
      const fd = openSync(object, 'r+');
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, 40);
      b[0] ^= 0xff;
      writeSync(fd, b, 0, 1, 40);
      closeSync(fd);
      chmodSync(object, 0o444);
      // and another object that lost its read-only mode
      const other = must(cli(t.store, ['audit', path.join(path.dirname(pyc), '__main__.cpython-311.pyc')]), 'audit FILE').json.files[0].objectPath;
      chmodSync(other, 0o644);
    },
    args: () => ['verify', '--full', '--repair'],
    rerunOk: (r) => r.code === 0 || (r.code === 1 && r.json?.corrupt?.length > 0 && r.json.corrupt.every((c) => c.quarantined)),
  },
};

/** Break what the checks must catch: a pyc gone, and a pyc that loads other code (with a fresh header). */
function sabotage(t) {
  const pycache = path.join(sitePackages(path.join(t.dir, 'B')), 'pip', '__pycache__');
  rmSync(path.join(pycache, '__main__.cpython-311.pyc'));
  const victim = path.join(pycache, '__init__.cpython-311.pyc');
  const source = path.join(path.dirname(pycache), '__init__.py');
  const code = `import py_compile, sys, os, tempfile
src = open(sys.argv[1]).read() + "\\nSABOTAGED = 1\\n"
d = tempfile.mkdtemp(); p = os.path.join(d, "m.py"); open(p, "w").write(src)
st = os.stat(sys.argv[1]); os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
out = py_compile.compile(p, cfile=os.path.join(d, "m.pyc"), doraise=True)
data = bytearray(open(out, "rb").read()); data[12:16] = (st.st_size & 0xFFFFFFFF).to_bytes(4, "little")
tmp = sys.argv[2] + ".sabotage"; open(tmp, "wb").write(data); os.replace(tmp, sys.argv[2])`;
  execFileSync(py(path.join(t.dir, 'B')), ['-c', code, source, victim], { env: pythonEnv() });
}

// ------------------------------------------------------------------ one trial

async function trial(i, command, fsKind, env, rand) {
  const sc = SCENARIOS[command];
  const t = freshTrialDir(env.mnt[fsKind], env.templates);
  sc.prepare(t);
  const args = sc.args(t);
  const key = `${command}/${fsKind}`;
  if (!env.counts[key]) {
    // Count the syscalls of an uninterrupted run of this command on this filesystem, then start again.
    const countFile = path.join(env.base, `count-${command}-${fsKind}.txt`);
    const r = await straced(t.store, args, undefined, countFile);
    const expected = command === 'verify-repair' ? 1 : 0; // it finds the corrupt object
    if (r.code !== expected) throw new Error(`${key}: the uninterrupted run exited ${r.code}: ${r.stderr}`);
    env.counts[key] = countSyscalls(countFile);
    return trial(i, command, fsKind, env, rand);
  }
  const kill = killPoint(rand, env.counts[key]);
  const res = { i, command, fs: fsKind, kill: `${kill.syscall} #${kill.n}`, killed: false, lost: [], corrupted: [], imports: [], failures: [] };
  const paths = [];
  const snapDir = path.join(env.snapDir, fsKind);
  for (const v of VENVS) {
    if (t.removed.includes(v)) continue;
    const snap = JSON.parse(readFileSync(path.join(snapDir, `${v}.json`), 'utf8'));
    paths.push(...Object.keys(snap.files).filter((p) => !t.ignore.includes(p)));
  }
  const listFile = path.join(env.base, 'watch.json');
  writeFileSync(listFile, JSON.stringify(paths));
  const watcher = startWatcher(listFile);
  await watcher.ready;
  const r = await straced(t.store, args, kill);
  const watched = await watcher.stop();
  res.killed = r.signal === 'SIGKILL' || r.code === 137;
  const expected = command === 'verify-repair' ? 1 : 0;
  if (!res.killed && r.code !== expected) res.failures.push(`the run exited ${r.code}: ${r.stderr.slice(-300)}`);
  res.lost.push(...watched.missing.map((p) => ({ path: p, kind: 'missing-while-running' })));
  if (watched.died) res.failures.push(watched.died);
  else if (watched.loops < 2) res.failures.push(`the watcher made only ${watched.loops} passes`);

  if (i === SABOTAGE) sabotage(t);
  const sortOut = (problems) => {
    for (const p of problems) (p.kind === 'missing' ? res.lost : res.corrupted).push(p);
  };
  sortOut(checkTree(t, snapDir, { allowNew: true }));
  // verify-repair: the object it repairs was corrupted on purpose, with the venv pycs hard-linked to it;
  // those venvs import again once the repair is complete (below), not before.
  const repairs = command === 'verify-repair';
  if (!repairs) res.imports.push(...checkImports(t));
  const again = cli(t.store, args);
  if (!(again.code === 0 || (sc.rerunOk?.(again) ?? false))) res.failures.push(`the next run exited ${again.code}: ${again.stderr.slice(-300)}`);
  const verify = cli(t.store, ['verify', '--full']);
  if (verify.code !== 0) res.failures.push(`verify --full exited ${verify.code}: ${verify.stderr.slice(-300)}`);
  const audit = cli(t.store, ['audit']);
  if (audit.code !== 0) res.failures.push(`audit exited ${audit.code}: ${JSON.stringify(audit.json?.anomalies ?? audit.stderr).slice(0, 300)}`);
  sortOut(checkTree(t, snapDir, { allowNew: false }));
  if (repairs) res.imports.push(...checkImports(t));
  return res;
}

// ------------------------------------------------------------------ main

function summarize(results) {
  const rows = new Map();
  for (const r of results) {
    const k = `${r.command}|${r.fs}`;
    const row = rows.get(k) ?? { command: r.command, fs: r.fs, trials: 0, killed: 0, lost: 0, corrupted: 0, importFailures: 0, failed: 0 };
    row.trials++;
    row.killed += r.killed ? 1 : 0;
    row.lost += r.lost.length;
    row.corrupted += r.corrupted.length;
    row.importFailures += r.imports.length;
    row.failed += r.failures.length || r.lost.length || r.corrupted.length || r.imports.length ? 1 : 0;
    rows.set(k, row);
  }
  const list = [...rows.values()];
  const total = list.reduce(
    (s, r) => ({ trials: s.trials + r.trials, killed: s.killed + r.killed, lost: s.lost + r.lost, corrupted: s.corrupted + r.corrupted, importFailures: s.importFailures + r.importFailures, failed: s.failed + r.failed }),
    { trials: 0, killed: 0, lost: 0, corrupted: 0, importFailures: 0, failed: 0 },
  );
  return { rows: list, total };
}

function table(summary) {
  const lines = ['| command | fs | trials | killed | lost | corrupted | import failures | trials failed |', '|---|---|---|---|---|---|---|---|'];
  for (const r of summary.rows) lines.push(`| ${r.command} | ${r.fs === 'xfs' ? 'XFS (reflinks)' : 'ext4 (hard links)'} | ${r.trials} | ${r.killed} | ${r.lost} | ${r.corrupted} | ${r.importFailures} | ${r.failed} |`);
  const t = summary.total;
  lines.push(`| **all** | | **${t.trials}** | ${t.killed} | **${t.lost}** | **${t.corrupted}** | ${t.importFailures} | ${t.failed} |`);
  return lines.join('\n');
}

async function main() {
  preconditions();
  const started = Date.now();
  const base = opt.work ? path.resolve(opt.work) : mkdtempSync(path.join(os.tmpdir(), 'pycstore-trials-'));
  mkdirSync(base, { recursive: true });
  chmodSync(base, 0o755);
  const cleanup = () => {
    unmountAll();
    if (!opt.keep) rmSync(base, { recursive: true, force: true });
  };
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    log(`sigkill-trials: ${TRIALS} trials, seed ${SEED}, ${COMMANDS.join(' ')} on ${FILESYSTEMS.join(' ')}; work in ${base}`);
    const templates = makeTemplates(base);
    const snapDir = path.join(base, 'snapshots');
    mkdirSync(snapDir);
    const env = { base, templates, snapDir, mnt: {}, counts: {} };
    for (const f of FILESYSTEMS) env.mnt[f] = mountFs(f, base);
    // One snapshot per venv and filesystem, of the copy at the trial path (the same path in every trial).
    for (const f of FILESYSTEMS) {
      const first = freshTrialDir(env.mnt[f], templates);
      mkdirSync(path.join(snapDir, f));
      for (const v of VENVS) {
        const r = runJson(py(path.join(first.dir, v)), [CHECKER, 'snapshot', path.join(snapDir, f, `${v}.json`), path.join(first.dir, v)]);
        if (r.code !== 0) throw new Error(`snapshot of ${v} on ${f}: ${r.stderr}`);
      }
    }
    // Commands take turns, and filesystems alternate along them: any 2·|commands| consecutive trials cover every pair.
    const combos = [];
    for (let r = 0; r < FILESYSTEMS.length; r++) COMMANDS.forEach((c, j) => combos.push([c, FILESYSTEMS[(j + r) % FILESYSTEMS.length]]));
    const rand = mulberry32(SEED);
    const results = [];
    for (let i = 0; i < TRIALS; i++) {
      const [command, fsKind] = combos[i % combos.length];
      let res;
      try {
        res = await trial(i + 1, command, fsKind, env, rand);
      } catch (err) {
        res = { i: i + 1, command, fs: fsKind, kill: '-', killed: false, lost: [], corrupted: [], imports: [], failures: [`trial could not run: ${err.message}`] };
      }
      results.push(res);
      const bad = [...res.lost, ...res.corrupted].map((p) => `${p.kind} ${p.path}`).concat(res.failures, res.imports.map((m) => `import ${m.module}: ${m.error}`));
      log(`#${res.i} ${command}/${fsKind} kill at ${res.kill}: ${res.killed ? 'killed' : 'not killed (ran to the end)'}; ${bad.length ? `FAILED: ${bad.slice(0, 5).join('; ')}` : 'ok'}`);
    }
    const summary = summarize(results);
    log(`\n${table(summary)}\n\n${((Date.now() - started) / 60000).toFixed(1)} min`);
    if (opt.json) process.stdout.write(`${JSON.stringify({ seed: SEED, trials: TRIALS, summary, results, counts: env.counts })}\n`);
    return summary.total.failed === 0 ? 0 : 1;
  } finally {
    cleanup();
  }
}

process.exitCode = await main();
