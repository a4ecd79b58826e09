#!/usr/bin/env node
/**
 * Throughput of the canonical form over a stdlib: parse, canonicalize, check, and
 * canonicalizeChecked (all three, parsing the original once: the product's path).
 *
 *   npm run build
 *   node scripts/bench-canonical.mjs [--rounds N] [DIR ...]
 *
 * DIR: trees to take pycs from (every __pycache__/*.pyc below, all optimization levels;
 * relative names are taken relative to DIR). Default: the stdlib of `python3` on PATH,
 * or of $PYTHON. Runs over the compiled dist/, in this one thread; reports MB/s (of pyc
 * bodies) and pycs/s per phase, by wall clock and by process CPU time (which includes
 * V8's GC helper threads; run node with --single-threaded to keep it all on one core).
 * The best and the median of N rounds (default 5) after one warm-up round.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { parseMarshal, canonicalize, checkCanonical, canonicalizeChecked } = await import(path.join(root, 'dist/marshal/index.js'));
const { parseHeader } = await import(path.join(root, 'dist/pyc/header.js'));

const args = process.argv.slice(2);
let rounds = 5;
const dirs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--rounds') rounds = Number(args[++i]);
  else if (args[i] === '-h' || args[i] === '--help') {
    console.log('usage: node scripts/bench-canonical.mjs [--rounds N] [DIR ...]');
    process.exit(0);
  } else dirs.push(path.resolve(args[i]));
}
if (dirs.length === 0) {
  const py = process.env.PYTHON ?? 'python3';
  dirs.push(execFileSync(py, ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])']).toString().trim());
}

function* pycsUnder(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* pycsUnder(p);
    else if (e.isFile() && e.name.endsWith('.pyc') && path.basename(dir) === '__pycache__') yield p;
  }
}

const items = [];
let skipped = 0;
for (const dir of dirs) {
  for (const pyc of pycsUnder(dir)) {
    const data = readFileSync(pyc);
    const header = parseHeader(data);
    if (typeof header === 'string') {
      skipped++;
      continue;
    }
    const mod = path.basename(pyc).replace(/\.cpython-\d+(\.opt-\d+)?\.pyc$/, '');
    const rel = path.relative(dir, path.join(path.dirname(path.dirname(pyc)), `${mod}.py`)).split(path.sep).join('/');
    items.push({ body: new Uint8Array(data.buffer, data.byteOffset + 16, data.length - 16), version: header.version, rel });
  }
}
if (items.length === 0) {
  console.error(`no pycs under ${dirs.join(', ')}`);
  process.exit(1);
}
const bytes = items.reduce((n, it) => n + it.body.length, 0);
const canon = items.map((it) => {
  try {
    return canonicalize(it.body, it.version, it.rel);
  } catch {
    return undefined; // refused (ECANON/EMARSHAL): left out of the check phase
  }
});
const refused = canon.filter((c) => c === undefined).length;

const phases = {
  parse: () => {
    for (const it of items) parseMarshal(it.body, it.version);
  },
  canonicalize: () => {
    for (let i = 0; i < items.length; i++) if (canon[i]) canonicalize(items[i].body, items[i].version, items[i].rel);
  },
  check: () => {
    for (let i = 0; i < items.length; i++) if (canon[i]) checkCanonical(items[i].body, canon[i], items[i].version, items[i].rel);
  },
  'canonicalize, then checkCanonical': () => {
    for (let i = 0; i < items.length; i++) {
      if (!canon[i]) continue;
      const c = canonicalize(items[i].body, items[i].version, items[i].rel);
      checkCanonical(items[i].body, c, items[i].version, items[i].rel);
    }
  },
  // What the product runs per object: parse once, canonicalize, check.
  canonicalizeChecked: () => {
    for (let i = 0; i < items.length; i++) if (canon[i]) canonicalizeChecked(items[i].body, items[i].version, items[i].rel);
  },
};

function measure(fn) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  return { wall, cpu: (cu.user + cu.system) / 1e6 };
}

const versions = [...new Set(items.map((it) => it.version.version))].join(', ');
console.log(`${items.length} pycs (${(bytes / 1048576).toFixed(1)} MiB of marshal bodies; Python ${versions}) under ${dirs.join(', ')}`);
if (skipped) console.log(`${skipped} pycs skipped (header not a known final magic)`);
if (refused) console.log(`${refused} pycs refused by canonicalize, left out of the timings`);
console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? '?'}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`${rounds} rounds after a warm-up; MB = 10^6 bytes of pyc bodies\n`);
const med = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const rows = [];
for (const [name, fn] of Object.entries(phases)) {
  fn(); // warm-up
  const runs = Array.from({ length: rounds }, () => measure(fn));
  const best = Math.min(...runs.map((r) => r.wall));
  const median = med(runs.map((r) => r.wall));
  const cpu = med(runs.map((r) => r.cpu));
  rows.push({
    phase: name,
    'MB/s (best wall)': (bytes / 1e6 / best).toFixed(1),
    'MB/s (median wall)': (bytes / 1e6 / median).toFixed(1),
    'MB/s (median CPU)': (bytes / 1e6 / cpu).toFixed(1),
    'pycs/s (best wall)': Math.round(items.length / best),
  });
}
console.table(rows);
