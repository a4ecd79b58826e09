/**
 * `envs` for library callers: the environments discovery finds, each with
 * audit's figures for its tree (audit's own code: one implementation of
 * pycs / linked / apparent / allocated / saved), sorted by what sharing
 * saves. Read-only: the store is only read, and need not exist.
 */
import { existsSync } from 'node:fs';
import { runAudit } from '../audit/run.js';
import { ledgerPath } from '../store/location.js';
import type { Figures } from '../audit/figures.js';
import { outputOf, storeOf, type CommonOptions } from './common.js';
import { findTargets, type DiscoverySummary } from './targets.js';

export interface EnvsOptions extends CommonOptions {
  /** `--workspace` (repeatable): the folders searched for project environments, instead of the configured ones. */
  readonly workspace?: string | readonly string[];
  /** `--exclude` (repeatable): globs of folders neither searched nor counted, besides the config file's. */
  readonly exclude?: string | readonly string[];
}

/** One environment: what it is, and audit's figures for its tree. */
export interface EnvRow extends Figures {
  /** uv, uv-tool, uv-cache, uv-python, poetry, pipx, pipenv, virtualenvwrapper, pyenv-python, pyenv-virtualenv, conda, pixi, hatch, pdm, tox, nox, rye, venv, python, … */
  kind: string;
  /** Real path. */
  path: string;
  /** "3.11", or null when unknown. */
  python: string | null;
  /** How it was found (a variable, a config key, a tool's default place, a workspace walk). */
  foundBy: string;
  /** Other paths leading to it (symlinks, .venv files). */
  aliases: string[];
}

export interface EnvsReport {
  store: string;
  /** Is there a store yet? Without one nothing is linked. */
  exists: boolean;
  /** Sorted by bytesSaved, then allocatedBytes (largest first), then path. */
  environments: EnvRow[];
  /** Sums over the environments, and their count. */
  totals: Figures & { environments: number };
  discovery: DiscoverySummary;
}

const list = (v: string | readonly string[] | undefined): string[] => (v === undefined ? [] : typeof v === 'string' ? [v] : [...v]);

export async function envs(opts: EnvsOptions = {}): Promise<EnvsReport> {
  const out = outputOf(opts);
  const storeDir = storeOf(opts);
  const t = await findTargets({ paths: [], discover: true, honourConfig: false, workspaces: list(opts.workspace), excludes: list(opts.exclude), registered: [], out });
  const found = t.environments;
  const audit = found.length
    ? await runAudit({ storeDir, paths: found.map((e) => e.path), full: false, checkObjects: false, descend: t.descend, out })
    : undefined;
  const rows: EnvRow[] = found.map((e, i) => {
    const { path: _p, ...fig } = audit!.roots[i]!;
    return { kind: e.kind, path: e.path, python: e.python ?? null, foundBy: e.foundBy, aliases: [...e.aliases], ...fig };
  });
  rows.sort((a, b) => b.bytesSaved - a.bytesSaved || b.allocatedBytes - a.allocatedBytes || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const zero = { pycs: 0, linked: 0, linkedElsewhere: 0, apparentBytes: 0, allocatedBytes: 0, bytesSaved: 0 };
  return {
    store: storeDir,
    exists: audit?.exists ?? existsSync(ledgerPath(storeDir)),
    environments: rows,
    totals: { environments: rows.length, ...(audit?.totals ?? zero) },
    discovery: t.discovery!,
  };
}
