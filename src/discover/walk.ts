/**
 * The workspace walk: every environment under a root, to a bounded depth,
 * reading each folder once (readdir with file types, many at a time). It never
 * goes into an environment, a folder the filter refuses, or a symlinked
 * folder; a `.venv` symlink or file is a pointer and is followed to the
 * environment it names (PEP 832: a path, relative to the file's folder or
 * absolute; pipenv: a name in its WORKON_HOME).
 */
import type { PlatformPath } from 'node:path';
import type { DirFilter } from './filter.js';
import type { DirEntry, QuietProbe } from './probe.js';
import { recogniseDir, recogniseEntries, type Recognised } from './recognise.js';
import type { EnvKind } from './types.js';

export interface Found {
  readonly rec: Recognised;
  /** What the surroundings say it is (.tox parent, lockfile beside .venv, ...). */
  readonly hint: EnvKind | undefined;
  readonly via: string;
  /** The path it was reached by, when that is a pointer (.venv file or symlink). */
  readonly alias?: string;
}

export interface WalkOptions {
  readonly probe: QuietProbe;
  readonly P: PlatformPath;
  readonly filter: DirFilter;
  readonly maxDepth: number;
  readonly concurrency: number;
  /** Where a `.venv` file's bare name may live (pipenv's WORKON_HOME and default). */
  readonly pointerHomes: readonly string[];
}

/** The tool a project's lockfile names, for the `.venv` beside it. */
export function projectKind(siblings: ReadonlySet<string>): EnvKind | undefined {
  if (siblings.has('uv.lock')) return 'uv';
  if (siblings.has('poetry.lock')) return 'poetry';
  if (siblings.has('pdm.lock')) return 'pdm';
  if (siblings.has('Pipfile') || siblings.has('Pipfile.lock')) return 'pipenv';
  if (siblings.has('requirements.lock')) return 'rye';
  return undefined;
}

/** What a folder named `name` inside `parent` is, from where it sits. */
export function childHint(P: PlatformPath, parent: string, name: string, siblings: ReadonlySet<string>): EnvKind | undefined {
  const up = P.basename(parent);
  if (up === '.tox') return 'tox';
  if (up === '.nox') return 'nox';
  if (up === '.hatch') return 'hatch';
  if (up === 'envs' && P.basename(P.dirname(parent)) === '.pixi') return 'pixi';
  if (name === '.venv') return projectKind(siblings);
  return undefined;
}

interface Item {
  readonly dir: string;
  readonly depth: number;
  readonly hint: EnvKind | undefined;
}

/** Run `work` over a growing set of items, at most `limit` at once. */
export function drain<T>(initial: T[], limit: number, work: (item: T, push: (t: T) => void) => Promise<void>): Promise<void> {
  const stack = [...initial];
  let active = 0;
  return new Promise((resolve, reject) => {
    const pump = (): void => {
      if (stack.length === 0 && active === 0) return resolve();
      while (active < limit && stack.length > 0) {
        active++;
        work(stack.pop()!, (t) => stack.push(t)).then(() => {
          active--;
          pump();
        }, reject);
      }
    };
    pump();
  });
}

async function followPointer(o: WalkOptions, dir: string, entry: DirEntry): Promise<Recognised | undefined> {
  const p = o.P.join(dir, entry.name);
  if (entry.type === 'symlink') return recogniseDir(o.probe, o.P, p);
  if (entry.type !== 'file') return undefined;
  const line = ((await o.probe.readFile(p)) ?? '').split(/\r?\n/)[0]!.trim();
  if (line === '') return undefined;
  const targets = [o.P.resolve(dir, line)];
  if (!/[\\/]/.test(line)) targets.push(...o.pointerHomes.map((h) => o.P.join(h, line)));
  for (const t of targets) {
    const rec = await recogniseDir(o.probe, o.P, t);
    if (rec) return rec;
  }
  return undefined;
}

/** Every environment under `root` (the root itself included). */
export async function walkWorkspace(root: string, o: WalkOptions, report: (f: Found) => void): Promise<void> {
  const via = `workspace ${root}`;
  const parent = o.P.dirname(root);
  const around = parent === root ? [] : ((await o.probe.readdir(parent)) ?? []);
  const hint = childHint(o.P, parent, o.P.basename(root), new Set(around.map((e) => e.name)));
  await drain<Item>([{ dir: root, depth: 0, hint }], o.concurrency, async (item, push) => {
    const entries = await o.probe.readdir(item.dir);
    if (!entries) return;
    const rec = await recogniseEntries(o.probe, o.P, item.dir, entries);
    if (rec) {
      if (o.filter.accept(rec.path)) report({ rec, hint: item.hint, via });
      if (rec.hasEnvs && item.depth < o.maxDepth) push({ dir: o.P.join(item.dir, 'envs'), depth: item.depth + 1, hint: undefined });
      return;
    }
    const names = new Set(entries.map((e) => e.name));
    for (const e of entries) {
      const child = o.P.join(item.dir, e.name);
      if (e.name === '.venv' && e.type !== 'dir') {
        const target = await followPointer(o, item.dir, e);
        if (target && o.filter.accept(target.path)) report({ rec: target, hint: projectKind(names), via: `.venv ${e.type === 'file' ? 'file' : 'link'} in ${item.dir}`, alias: child });
      } else if (e.type === 'dir' && item.depth < o.maxDepth && o.filter.descend(child)) {
        push({ dir: child, depth: item.depth + 1, hint: childHint(o.P, item.dir, e.name, names) });
      }
    }
  });
}
