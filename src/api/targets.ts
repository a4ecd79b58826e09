/**
 * Which trees a run covers: environment discovery (src/discover) composed with
 * the pyc scanner of dedup and audit. It lives in the api layer because
 * features never import each other; dedup, envs and `schedule install` all
 * ask it, so they agree on what "every environment" is.
 *
 * - No PATH: every environment discovery finds (the tools' places, then the
 *   workspace roots: --workspace, else the config file's, else ~), plus, for
 *   dedup, the roots earlier runs registered. `discover = false` in the
 *   config file makes a bare run the registered roots only.
 * - A PATH that is an environment, or inside one: scanned as it is.
 * - A PATH that is not: only the environments under it (environmentsUnder),
 *   never node_modules, .git and the like.
 * - --no-discover: the PATHs as given, or (none given) the registered roots.
 *
 * --exclude globs (added to the config file's `exclude`) apply to discovery and
 * to the scanner alike; the scanner also skips a conda root's package cache
 * (`pkgs/`, which its envs hard-link) and never enters node_modules or VCS folders.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import {
  contextOf,
  discoverEnvironments,
  environmentsUnder,
  isEnvironment,
  loadConfig,
  LOCATORS,
  makeScanFilter,
  type DiscoveredEnv,
  type DiscoveryResult,
  type PycstoreConfig,
} from '../discover/index.js';
import { usageError } from '../errors.js';
import { openStoreReadOnly } from '../session/open.js';
import type { Output } from '../util/output.js';
import { formatCount } from '../util/format.js';

export interface TargetOptions {
  readonly paths: readonly string[];
  /** false: --no-discover. */
  readonly discover: boolean;
  /** --workspace (replaces the configured workspace roots for this run). */
  readonly workspaces?: readonly string[];
  /** --exclude (added to the config file's). */
  readonly excludes?: readonly string[];
  /** The roots earlier runs registered (dedup's; envs passes none). */
  readonly registered?: readonly string[];
  /** Honour `discover = false` of the config file for a bare run (default true; envs lists regardless). */
  readonly honourConfig?: boolean;
  /** Variables and home the discovery rules read (default: this process's). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly home?: string;
  readonly out: Output;
}

/** What discovery did, for the report (`dedup --json`'s `discovery`). */
export interface DiscoverySummary {
  /** Environments found (PATH runs: under the PATHs). */
  environments: number;
  /** Kind → count. */
  kinds: Record<string, number>;
  /** Registered roots scanned besides them (a bare dedup). */
  registeredRoots: number;
  /** Where it looked: the tools whose places were searched, the workspace roots and how deep. */
  looked: { tools: string[]; workspaces: string[]; maxDepth: number; config: string | null };
  /** PATHs that are no environment and hold none: left alone. */
  emptyPaths: string[];
}

export interface Targets {
  /** The trees to scan, absolute (without the registered roots). */
  readonly roots: string[];
  /** Scan the registered roots too (a bare run with discovery). */
  readonly alsoRegistered: boolean;
  /** The environments among them (with their kind), in root order. */
  readonly environments: DiscoveredEnv[];
  /** Undefined with --no-discover. */
  readonly discovery: DiscoverySummary | undefined;
  /** The scanner's filter (--exclude globs, conda package caches). */
  readonly descend: (dir: string) => boolean;
  /** The home directory the rules used (for messages). */
  readonly home: string;
}

interface Setting {
  readonly ctx: ReturnType<typeof contextOf>;
  readonly config: PycstoreConfig;
  readonly excludes: string[];
  readonly workspaces: string[];
}

async function settings(opts: TargetOptions): Promise<Setting> {
  const base = { ...(opts.env ? { env: opts.env } : {}), ...(opts.home ? { home: opts.home } : {}) };
  const ctx = contextOf(base);
  const config = await loadConfig(base);
  const workspaces = opts.workspaces?.length ? opts.workspaces.map((w) => path.resolve(w)) : config.workspaces;
  return { ctx, config, excludes: [...config.exclude, ...(opts.excludes ?? [])], workspaces };
}

/** `dir` is an environment or inside one (its nearest such folder), else undefined. */
export async function enclosingEnvironment(dir: string): Promise<{ path: string; layout: string } | undefined> {
  for (let cur = dir; ; cur = path.dirname(cur)) {
    const rec = await isEnvironment(cur);
    if (rec) return { path: cur, layout: rec.layout };
    if (path.dirname(cur) === cur) return undefined;
  }
}

/** One run's settings and what it learns on the way. */
interface Run extends Setting {
  readonly opts: TargetOptions;
  readonly discoverOpts: { env: Setting['ctx']['env']; home: string; excludes: string[]; maxDepth: number };
  readonly looked: DiscoverySummary['looked'];
  /** Conda prefixes among the roots: their pkgs/ is not scanned. */
  readonly condaRoots: string[];
}

export async function findTargets(opts: TargetOptions): Promise<Targets> {
  const s = await settings(opts);
  const run: Run = {
    ...s,
    opts,
    discoverOpts: { env: s.ctx.env, home: s.ctx.home, excludes: s.excludes, maxDepth: s.config.maxDepth },
    looked: { tools: LOCATORS.map((l) => l.tool), workspaces: s.workspaces, maxDepth: s.config.maxDepth, config: s.config.exists ? s.config.file : null },
    condaRoots: [],
  };
  const registered = opts.registered ?? [];
  if (!opts.discover || (opts.paths.length === 0 && !s.config.discover && opts.honourConfig !== false)) {
    const roots = opts.paths.map((p) => path.resolve(p));
    for (const r of [...roots, ...registered]) if ((await isEnvironment(r))?.layout === 'conda') run.condaRoots.push(r);
    return finish(run, roots, [], undefined, false);
  }
  return opts.paths.length === 0 ? everything(run, registered) : underPaths(run);
}

/** A bare run: every environment discovery finds, and the registered roots. */
async function everything(run: Run, registered: readonly string[]): Promise<Targets> {
  const found = await discoverEnvironments({ ...run.discoverOpts, workspaces: run.workspaces });
  warnAll(run.opts.out, found);
  const envRoots = new Set(found.environments.map((e) => e.path));
  const extra = registered.filter((r) => !envRoots.has(r));
  for (const r of extra) if ((await isEnvironment(r))?.layout === 'conda') run.condaRoots.push(r);
  return finish(run, [...envRoots], found.environments, summary(found.environments, extra.length, run.looked, []), true);
}

/** PATH runs: a PATH in an environment as it is, any other PATH's environments. */
async function underPaths(run: Run): Promise<Targets> {
  const roots: string[] = [];
  const environments: DiscoveredEnv[] = [];
  const emptyPaths: string[] = [];
  for (const p of run.opts.paths) {
    const abs = path.resolve(p);
    const inside = await enclosingEnvironment(abs);
    if (inside) {
      roots.push(abs);
      if (inside.layout === 'conda' && inside.path === abs) run.condaRoots.push(abs);
      continue;
    }
    const under = await environmentsUnder(abs, run.discoverOpts);
    warnAll(run.opts.out, under);
    if (under.environments.length === 0) emptyPaths.push(abs);
    roots.push(...under.environments.map((e) => e.path));
    environments.push(...under.environments);
  }
  return finish(run, roots, environments, summary(environments, 0, run.looked, emptyPaths), false);
}

function finish(run: Run, roots: readonly string[], environments: DiscoveredEnv[], discovery: DiscoverySummary | undefined, alsoRegistered: boolean): Targets {
  for (const e of environments) if (e.layout === 'conda') run.condaRoots.push(e.path);
  const descend = makeScanFilter(run.ctx, { excludes: run.excludes, skipDirs: run.condaRoots.map((r) => path.join(r, 'pkgs')) });
  return { roots: [...new Set(roots)], alsoRegistered, environments, discovery, descend, home: run.ctx.home };
}

/** Nothing to scan at all: discovery found nothing, under no PATH, and there are no registered roots. */
export function foundNothing(t: Targets): boolean {
  return t.discovery !== undefined && t.roots.length === 0 && t.discovery.registeredRoots === 0;
}

function warnAll(out: Output, r: DiscoveryResult): void {
  for (const w of r.warnings) out.warn(w);
}

function summary(envs: readonly DiscoveredEnv[], registeredRoots: number, looked: DiscoverySummary['looked'], emptyPaths: string[]): DiscoverySummary {
  const kinds: Record<string, number> = {};
  for (const e of envs) kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
  return { environments: envs.length, kinds, registeredRoots, looked, emptyPaths };
}

/** "23 environments (5 uv, 3 poetry, 2 conda, …)". */
export function describeKinds(d: Pick<DiscoverySummary, 'environments' | 'kinds'>): string {
  const kinds = Object.entries(d.kinds)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, n]) => `${formatCount(n)} ${k}`);
  return `${formatCount(d.environments)} environment${d.environments === 1 ? '' : 's'}${kinds.length ? ` (${kinds.join(', ')})` : ''}`;
}

/** The one line for "nothing found": where it looked and how to name one. */
export function nothingFound(d: DiscoverySummary, home: string): string {
  const tilde = (p: string): string => (p === home ? '~' : p.startsWith(home + path.sep) ? `~${p.slice(home.length)}` : p);
  if (d.emptyPaths.length > 0) {
    return (
      `no Python environment in ${d.emptyPaths.map(tilde).join(', ')} (looked ${d.looked.maxDepth} levels deep): its pycs are left alone. ` +
      'Name an environment (a folder with pyvenv.cfg or conda-meta/), or scan the folder as a plain tree: pycstore dedup --no-discover PATH'
    );
  }
  return (
    `no Python environment found: looked in the places of ${d.looked.tools.join(', ')} and under ${d.looked.workspaces.map(tilde).join(', ') || '(no workspace)'} ` +
    `(${d.looked.maxDepth} levels deep). Name one: pycstore dedup PATH, or a folder of projects: pycstore dedup --workspace DIR`
  );
}

/** Say what was found, before the work (--verbose: each environment, with how it was found). */
export function announce(out: Output, t: Targets): void {
  const d = t.discovery;
  if (!d || foundNothing(t)) return;
  if (d.environments === 0 && d.registeredRoots === 0) return; // PATHs that are environments themselves: nothing was discovered
  const registered = d.registeredRoots ? `, and ${formatCount(d.registeredRoots)} registered root${d.registeredRoots === 1 ? '' : 's'}` : '';
  out.note(`found ${describeKinds(d)}${registered}`);
  for (const e of t.environments) out.info(`  ${e.kind.padEnd(17)} ${(e.python ?? '?').padEnd(5)} ${e.path}  (${e.foundBy})`);
  if (d.emptyPaths.length && t.roots.length) out.warn(nothingFound({ ...d, emptyPaths: d.emptyPaths }, t.home));
}

/** The roots earlier runs registered (read-only; none when there is no store yet). */
export function registeredRoots(storeDir: string): string[] {
  const store = openStoreReadOnly(storeDir);
  try {
    return store ? store.ledger.roots().map((r) => r.path) : [];
  } finally {
    store?.close();
  }
}
