/**
 * The stdlib pycs of an interpreter, for the differential tests: its own
 * lib/python3.X/**\/__pycache__/*.pyc (every optimization level) for pyenv builds, else
 * a copy of its stdlib compiled once with that interpreter at opt levels 0, 1 and 2 into
 * .cache/marshal-stdlib/ (Debian builds ship no pycs).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pythonEnv, REPO_ROOT, type Interpreter } from '../../helpers/interpreters.js';

export interface StdlibPycs {
  /** lib/python3.X that the relative names are relative to. */
  readonly libDir: string;
  readonly pycs: string[];
  /** True when the pycs were compiled into a cached copy for the test. */
  readonly compiledHere: boolean;
}

function py(interp: Interpreter, code: string): string {
  return execFileSync(interp.exe, ['-c', code], { env: pythonEnv() }).toString().trim();
}

function listPycs(dir: string, tag: string, site: boolean): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (!site && (e.name === 'site-packages' || e.name === 'dist-packages')) continue;
        walk(p);
      } else if (e.isFile() && path.basename(d) === '__pycache__' && e.name.includes(`.${tag}.`) && e.name.endsWith('.pyc')) {
        out.push(p);
      }
    }
  };
  walk(dir);
  return out.sort();
}

export function stdlibPycs(interp: Interpreter, opts: { site?: boolean } = {}): StdlibPycs {
  const libDir = py(interp, 'import sysconfig; print(sysconfig.get_paths()["stdlib"])');
  const tag = `cpython-3${interp.minor}`;
  // Debian builds ship no pycs; a few may have been written since by imports, so their
  // stdlib is always compiled afresh into the cache.
  if (interp.origin === 'pyenv') {
    const own = listPycs(libDir, tag, opts.site === true);
    if (own.length > 0) return { libDir, pycs: own, compiledHere: false };
  }

  const stamp = py(interp, 'import sys; print(sys.version.replace("\\n", " "))');
  const copyRoot = path.join(REPO_ROOT, '.cache', 'marshal-stdlib', `3.${interp.minor}`);
  const copyLib = path.join(copyRoot, path.basename(libDir));
  const marker = path.join(copyRoot, 'COMPILED');
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== stamp) {
    rmSync(copyRoot, { recursive: true, force: true });
    mkdirSync(copyRoot, { recursive: true });
    cpSync(libDir, copyLib, {
      recursive: true,
      filter: (src) => !src.includes(`${path.sep}__pycache__`) && !/[\\/](site|dist)-packages$/.test(src),
    });
    try {
      execFileSync(interp.exe, ['-m', 'compileall', '-q', '-o', '0', '-o', '1', '-o', '2', copyLib], { env: pythonEnv(), stdio: 'pipe' });
    } catch (err) {
      // compileall exits 1 when some file doesn't compile (e.g. deliberate syntax errors); the rest are written.
      if ((err as { status?: number }).status !== 1) throw err;
    }
    writeFileSync(marker, stamp);
  }
  return { libDir: copyLib, pycs: listPycs(copyLib, tag, false), compiledHere: true };
}

/** "json/__pycache__/decoder.cpython-311.opt-1.pyc" under libDir -> "json/decoder.py". */
export function relSourceName(libDir: string, pyc: string): string {
  const dir = path.dirname(path.dirname(pyc));
  const mod = path.basename(pyc).replace(/\.cpython-\d+(\.opt-\d+)?\.pyc$/, ''); // "__phello__.foo" has a dot
  return path.relative(libDir, path.join(dir, `${mod}.py`)).split(path.sep).join('/');
}
