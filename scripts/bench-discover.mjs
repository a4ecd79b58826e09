#!/usr/bin/env node
/**
 * Discovery speed on a synthetic home of ~50,000 folders with a few dozen
 * environments, side by side with `find HOME -maxdepth N -type d` (the anchor).
 *
 *   npm run build
 *   node scripts/bench-discover.mjs [--out DIR] [--projects N] [--rounds N] [--max-depth N] [--keep]
 *
 * The home (default: a new folder in the temp dir, removed at the end unless
 * --keep or --out) holds 72 projects (source trees, .git with its 256 object
 * folders, node_modules in every third, .venv in every second, .tox / .nox in
 * some), ~/.cache (a pip cache), documents, and the tools' places: uv tools and
 * cache envs, poetry, pipx, pipenv, virtualenvwrapper, pyenv versions (fake
 * installs) with a pyenv-virtualenv env and its symlink, a conda root with envs.
 * Environments are folders with a pyvenv.cfg (or conda-meta/, or lib/python3.X/os.py)
 * and a site-packages of package folders: discovery never goes into them, find does.
 *
 * Each round runs, in alternating order, `find HOME -maxdepth N+1 -type d`
 * (N+1: find reads the folders at depth ≤ N, as discovery with max-depth N does,
 * which also reads a depth-N folder to see whether it is an environment) and a
 * node process running discoverEnvironments({home: HOME, env: {HOME}}), each
 * timed by wall clock from spawn to exit. Medians, the ratio, the folders each
 * read, and the peak RSS of each (from /usr/bin/time -v, when present).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist', 'discover', 'index.js');

// Child mode: one discovery, print "<envs> <readdirs> <ms>".
if (process.argv[2] === '--child') {
  const home = process.argv[3];
  const maxDepth = Number(process.argv[4]);
  const { discoverEnvironments, nodeProbe } = await import(dist);
  let reads = 0;
  const fs = { ...nodeProbe, readdir: (d) => (reads++, nodeProbe.readdir(d)) };
  const t = performance.now();
  const r = await discoverEnvironments({ home, env: { HOME: home }, platform: 'linux', maxDepth, fs });
  console.log(`${r.environments.length} ${reads} ${(performance.now() - t).toFixed(1)} ${JSON.stringify(r.counts)}`);
  process.exit(0);
}

const args = process.argv.slice(2);
const opt = { out: undefined, projects: 72, rounds: 7, maxDepth: 6, keep: false };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--out') opt.out = path.resolve(args[++i]);
  else if (a === '--projects') opt.projects = Number(args[++i]);
  else if (a === '--rounds') opt.rounds = Number(args[++i]);
  else if (a === '--max-depth') opt.maxDepth = Number(args[++i]);
  else if (a === '--keep') opt.keep = true;
  else {
    console.log('usage: node scripts/bench-discover.mjs [--out DIR] [--projects N] [--rounds N] [--max-depth N] [--keep]');
    process.exit(a === '-h' || a === '--help' ? 0 : 2);
  }
}
if (!existsSync(dist)) {
  console.error('bench-discover: run `npm run build` first (dist/discover/index.js is missing)');
  process.exit(2);
}

// ---------------------------------------------------------------- the synthetic home
let dirs = 0;
const mk = (...p) => {
  mkdirSync(path.join(...p), { recursive: true });
  dirs++;
  return path.join(...p);
};
const tree = (base, names, sub = []) => {
  for (const n of names) {
    mk(base, n);
    for (const s of sub) mk(base, n, s);
  }
};
const range = (n, f) => Array.from({ length: n }, (_, i) => f(i));
const sitePackages = (env, pkgs) => {
  const sp = mk(env, 'lib', 'python3.11', 'site-packages');
  mk(env, 'bin');
  tree(sp, range(pkgs, (i) => `pkg${i}`), ['__pycache__', 'sub']);
};
const venv = (dir, pkgs = 40, extra = '') => {
  mk(dir);
  writeFileSync(path.join(dir, 'pyvenv.cfg'), `home = /usr/bin\nversion = 3.11.2\n${extra}`);
  sitePackages(dir, pkgs);
};
const fakeInstall = (dir) => {
  const lib = mk(dir, 'lib', 'python3.11');
  writeFileSync(path.join(lib, 'os.py'), '');
  tree(lib, range(60, (i) => `stdpkg${i}`), ['__pycache__']);
  mk(dir, 'bin');
};
const condaEnv = (dir) => {
  mk(dir, 'conda-meta');
  writeFileSync(path.join(dir, 'conda-meta', 'python-3.11.7-h_0.json'), '{}');
  sitePackages(dir, 40);
};

function build(home) {
  for (let p = 0; p < opt.projects; p++) {
    const proj = mk(home, 'src', `org${p % 6}`, `proj${p}`);
    tree(mk(proj, 'src', `pkg${p}`), range(25, (i) => `mod${i}`), ['sub', 'tests']);
    tree(mk(proj, 'docs'), range(10, (i) => `chapter${i}`));
    const git = mk(proj, '.git');
    tree(mk(git, 'objects'), range(256, (i) => i.toString(16).padStart(2, '0')));
    tree(git, ['refs', 'hooks', 'info', 'logs'], ['heads', 'tags']);
    if (p % 3 === 0) tree(mk(proj, 'node_modules'), range(150, (i) => `npmpkg${i}`), ['lib', 'dist']);
    if (p % 2 === 0) venv(path.join(proj, '.venv'), 30, p % 4 === 0 ? 'uv = 0.5.11\n' : '');
    if (p % 8 === 1) for (const e of ['py311', 'py312']) venv(path.join(proj, '.tox', e), 30);
    if (p % 12 === 5) venv(path.join(proj, '.nox', 'tests'), 30);
  }
  tree(mk(home, 'Documents'), range(800, (i) => `folder${i}`), ['a', 'b', 'c']);
  tree(mk(home, '.cache', 'pip', 'http'), range(16, (i) => i.toString(16)), range(16, (i) => i.toString(16)));
  tree(mk(home, '.cache', 'pip', 'wheels'), range(200, (i) => `w${i}`), ['x', 'y']);
  for (let i = 0; i < 4; i++) venv(path.join(home, '.local', 'share', 'uv', 'tools', `tool${i}`), 30, 'uv = 0.5.11\n');
  for (let i = 0; i < 3; i++) venv(path.join(home, '.cache', 'uv', 'environments-v2', `script-${i}abc`), 20, 'uv = 0.5.11\n');
  for (let i = 0; i < 4; i++) venv(path.join(home, '.cache', 'pypoetry', 'virtualenvs', `app${i}-AbCdEfGh-py3.11`), 40);
  for (let i = 0; i < 4; i++) venv(path.join(home, '.local', 'share', 'pipx', 'venvs', `app${i}`), 20);
  for (let i = 0; i < 2; i++) venv(path.join(home, '.local', 'share', 'virtualenvs', `web${i}-x1Y2z3W4`), 40);
  for (let i = 0; i < 2; i++) venv(path.join(home, '.virtualenvs', `work${i}`), 40);
  for (const v of ['3.10.13', '3.11.7', '3.12.1']) fakeInstall(path.join(home, '.pyenv', 'versions', v));
  venv(path.join(home, '.pyenv', 'versions', '3.11.7', 'envs', 'foo'), 20);
  symlinkSync(path.join(home, '.pyenv', 'versions', '3.11.7', 'envs', 'foo'), path.join(home, '.pyenv', 'versions', 'foo'));
  condaEnv(path.join(home, 'miniconda3'));
  mk(home, 'miniconda3', 'condabin');
  tree(mk(home, 'miniconda3', 'pkgs'), range(300, (i) => `cpkg${i}`), ['info', 'lib']);
  for (let i = 0; i < 3; i++) condaEnv(path.join(home, 'miniconda3', 'envs', `env${i}`));
}

// ---------------------------------------------------------------- timing
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const hasTime = existsSync('/usr/bin/time');

function timed(cmd, argv) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

function peakRss(cmd, argv) {
  if (!hasTime) return undefined;
  const r = spawnSync('/usr/bin/time', ['-v', cmd, ...argv], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return m ? Number(m[1]) / 1024 : undefined;
}

const home = opt.out ?? mkdtempSync(path.join(os.tmpdir(), 'pycstore-bench-home-'));
if (opt.out) {
  if (existsSync(opt.out)) rmSync(opt.out, { recursive: true, force: true });
  mkdirSync(opt.out, { recursive: true });
}
try {
  build(home);
  const findArgs = [home, '-maxdepth', String(opt.maxDepth + 1), '-type', 'd'];
  const nodeArgs = [fileURLToPath(import.meta.url), '--child', home, String(opt.maxDepth)];
  const all = timed('find', [home, '-type', 'd']).stdout.trim().split('\n').length;
  console.log(`synthetic home ${home}: ${all} folders (${dirs} made), ${opt.projects} projects; max-depth ${opt.maxDepth}`);
  timed('find', findArgs); // warm the dentry cache
  const warm = timed(process.execPath, nodeArgs).stdout.trim().split(' ');
  const findCount = timed('find', findArgs).stdout.trim().split('\n').length;
  console.log(`discovery: ${warm[0]} environments ${warm[3]}, ${warm[1]} folders read`);
  console.log(`find -maxdepth ${opt.maxDepth + 1} -type d: ${findCount} folders listed`);
  const f = [];
  const d = [];
  const inner = [];
  for (let r = 0; r < opt.rounds; r++) {
    const runFind = () => f.push(timed('find', findArgs).ms);
    const runDisc = () => {
      const x = timed(process.execPath, nodeArgs);
      d.push(x.ms);
      inner.push(Number(x.stdout.trim().split(' ')[2]));
    };
    if (r % 2 === 0) (runFind(), runDisc());
    else (runDisc(), runFind());
  }
  const fm = median(f);
  const dm = median(d);
  console.log(`rounds: ${opt.rounds}, interleaved; medians (wall clock, spawn to exit):`);
  console.log(`  find       ${fm.toFixed(0).padStart(6)} ms`);
  console.log(`  discovery  ${dm.toFixed(0).padStart(6)} ms  (of which discoverEnvironments itself ${median(inner).toFixed(0)} ms; the rest is node start-up)`);
  console.log(`  ratio discovery/find: ${(dm / fm).toFixed(2)}`);
  const rf = peakRss('find', findArgs);
  const rd = peakRss(process.execPath, nodeArgs);
  if (rf !== undefined && rd !== undefined) console.log(`peak RSS: find ${rf.toFixed(1)} MiB, discovery ${rd.toFixed(1)} MiB`);
  else console.log('peak RSS: /usr/bin/time not found (apt-get install time)');
} finally {
  if (!opt.keep && !opt.out) rmSync(home, { recursive: true, force: true });
  else console.log(`kept ${home}`);
}
