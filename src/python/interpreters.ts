/**
 * Which interpreter can compile a venv's source with the right magic number:
 * the venv's own (found through pyvenv.cfg above the source, then bin/python
 * or Scripts/python.exe), else `python3.X` on PATH. The magic is checked by
 * asking the interpreter itself (the compile worker reports it on start).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { PyVersionInfo } from '../pyc/magic.js';
import { magicBytes } from '../pyc/magic.js';
import type { CompilerPool } from './pool.js';

/** The venv folder holding `file`, or undefined. */
export function venvOf(file: string, cache: Map<string, string | null>): string | undefined {
  const seen: string[] = [];
  let dir = path.dirname(path.resolve(file));
  let found: string | null = null;
  for (;;) {
    const known = cache.get(dir);
    if (known !== undefined) {
      found = known;
      break;
    }
    seen.push(dir);
    if (existsSync(path.join(dir, 'pyvenv.cfg'))) {
      found = dir;
      break;
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  for (const d of seen) cache.set(d, found);
  return found ?? undefined;
}

export function venvPythonPath(venv: string): string {
  return process.platform === 'win32' ? path.join(venv, 'Scripts', 'python.exe') : path.join(venv, 'bin', 'python');
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export class InterpreterFinder {
  private readonly venvCache = new Map<string, string | null>();
  /** Per (venv, magic): the answer, found once. */
  private readonly found = new Map<string, Promise<string | undefined>>();

  constructor(private readonly pool: CompilerPool) {}

  /** An interpreter whose magic is `version`'s, for a source file, or undefined. */
  find(sourcePath: string, version: PyVersionInfo): Promise<string | undefined> {
    const venv = venvOf(sourcePath, this.venvCache);
    const key = `${venv ?? ''}@${version.magic}`;
    let answer = this.found.get(key);
    if (!answer) {
      answer = this.search(venv, version);
      this.found.set(key, answer);
    }
    return answer;
  }

  private async search(venv: string | undefined, version: PyVersionInfo): Promise<string | undefined> {
    const candidates: string[] = [];
    if (venv && existsSync(venvPythonPath(venv))) candidates.push(venvPythonPath(venv));
    const fromPath = onPath(process.platform === 'win32' ? 'python.exe' : `python${version.version}`);
    if (fromPath) candidates.push(fromPath);
    const want = Buffer.from(magicBytes(version)).toString('hex');
    for (const exe of candidates) {
      const ok = await this.pool.identify(exe).then(
        (id) => id.magic === want,
        () => false,
      );
      if (ok) return exe;
    }
    return undefined;
  }
}
