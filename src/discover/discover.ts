/**
 * Discovery, end to end: read the tools' config files, ask every locator for
 * its places, expand them, walk the workspace roots, then merge by real path
 * (each environment once; a tool's kind beats the generic `venv`/`python`).
 * The merge runs in a fixed order (locators in LOCATORS order, then the walks),
 * so the same disk gives the same answer.
 */
import os from 'node:os';
import { expandCandidates } from './expand.js';
import { makeDirFilter, type DirFilter } from './filter.js';
import { LOCATORS } from './locators/index.js';
import { pipenvHome } from './locators/pipenv.js';
import { envVar, pathOf, resolveIn } from './platform-dirs.js';
import { nodeProbe, quiet, type FsProbe, type QuietProbe } from './probe.js';
import type { Recognised } from './recognise.js';
import { readConfigFiles } from './tool-config.js';
import type { Candidate, DiscoveredEnv, EnvKind, EnvLayout, Locator, PathContext, Platform } from './types.js';
import { walkWorkspace, type Found } from './walk.js';

export const DEFAULT_MAX_DEPTH = 6;
export const DEFAULT_CONCURRENCY = 32;

export interface DiscoverOptions {
  /** Variables the path rules read (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Whose rules (default: this machine's; other POSIX systems follow Linux). */
  readonly platform?: Platform;
  /** Home directory (default: os.homedir()). */
  readonly home?: string;
  /** Roots searched for project-local envs (default: [home]). */
  readonly workspaces?: readonly string[];
  /** Globs: folders never entered nor taken as environments. */
  readonly excludes?: readonly string[];
  /** How deep below each workspace root to look (default 6). */
  readonly maxDepth?: number;
  /** Filesystem access (default: node:fs). */
  readonly fs?: FsProbe;
  /** Folders read at once (default 32). */
  readonly concurrency?: number;
  /** The locators to run (default: all). */
  readonly locators?: readonly Locator[];
}

export interface DiscoveryResult {
  /** Sorted by path. */
  readonly environments: DiscoveredEnv[];
  /** Environments per kind (kinds with none are absent). */
  readonly counts: Partial<Record<EnvKind, number>>;
  /** Folders that could not be read, tool config files that did not parse, ... */
  readonly warnings: string[];
}

export function contextOf(opts: DiscoverOptions): PathContext {
  const p = opts.platform ?? process.platform;
  const platform: Platform = p === 'win32' || p === 'darwin' ? p : 'linux';
  return { env: opts.env ?? process.env, platform, home: opts.home ?? os.homedir() };
}

/** Every locator's places, after reading the config files they ask for. */
export async function locateCandidates(ctx: PathContext, probe: QuietProbe, locators: readonly Locator[] = LOCATORS): Promise<Candidate[]> {
  const files = await readConfigFiles(probe, locators.flatMap((l) => l.configFiles?.(ctx) ?? []));
  return locators.flatMap((l) => l.locate(ctx, files));
}

const GENERIC: Record<EnvLayout, EnvKind> = { venv: 'venv', conda: 'conda', python: 'python' };

function locatedKind(c: Candidate, rec: Recognised, path: string, P: ReturnType<typeof pathOf>): EnvKind {
  if (rec.pixi) return 'pixi';
  if (rec.layout === 'venv' && c.classify) return c.classify(P.basename(path));
  return c.kinds[rec.layout] ?? GENERIC[rec.layout];
}

function walkedKind(f: Found): EnvKind {
  const { rec, hint } = f;
  if (rec.layout === 'conda') return rec.pixi || hint === 'pixi' ? 'pixi' : 'conda';
  if (rec.layout === 'python') return 'python';
  if (rec.rye) return 'rye';
  return hint ?? (rec.uv ? 'uv' : 'venv');
}

interface Hit {
  readonly path: string;
  readonly rec: Recognised;
  readonly kind: EnvKind;
  readonly via: string;
  readonly alias?: string;
}

interface Entry {
  kind: EnvKind;
  path: string;
  layout: EnvLayout;
  python: string | undefined;
  base: string | undefined;
  foundBy: string;
  aliases: Set<string>;
}

/** One entry per real path, in the order given. */
async function merge(hits: readonly Hit[], probe: QuietProbe, filter: DirFilter): Promise<DiscoveredEnv[]> {
  const reals = await Promise.all(hits.map(async (h) => (await probe.realpath(h.rec.path)) ?? h.rec.path));
  const byReal = new Map<string, Entry>();
  hits.forEach((h, i) => {
    const real = reals[i]!;
    if (!filter.accept(real) || !filter.accept(h.path)) return;
    let e = byReal.get(real);
    if (!e) {
      e = { kind: h.kind, path: real, layout: h.rec.layout, python: h.rec.python, base: h.rec.base, foundBy: h.via, aliases: new Set() };
      byReal.set(real, e);
    } else if (e.kind === GENERIC[e.layout] && h.kind !== GENERIC[h.rec.layout]) {
      e.kind = h.kind;
      e.foundBy = h.via;
    }
    e.python ??= h.rec.python;
    for (const a of [h.path, h.rec.path, h.alias]) if (a !== undefined && a !== real) e.aliases.add(a);
  });
  return [...byReal.values()]
    .map((e) => ({ ...e, aliases: [...e.aliases].sort() }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function countKinds(envs: readonly DiscoveredEnv[]): Partial<Record<EnvKind, number>> {
  const counts: Partial<Record<EnvKind, number>> = {};
  for (const e of envs) counts[e.kind] = (counts[e.kind] ?? 0) + 1;
  return counts;
}

function isUnder(P: ReturnType<typeof pathOf>, root: string, p: string): boolean {
  const rel = P.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !P.isAbsolute(rel));
}

interface RunPlan {
  readonly roots: readonly string[];
  /** Keep only located environments under this folder (PATH-scan mode). */
  readonly within?: string;
}

async function run(opts: DiscoverOptions, plan: RunPlan): Promise<DiscoveryResult> {
  const ctx = contextOf(opts);
  const P = pathOf(ctx.platform);
  const probe = quiet(opts.fs ?? nodeProbe);
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  const candidates = await locateCandidates(ctx, probe, opts.locators);
  const filter = makeDirFilter(ctx, { excludes: opts.excludes ?? [], skipDirs: candidates.filter((c) => c.pattern.length > 0).map((c) => c.dir) });
  const hits: Hit[] = [];
  for (const l of await expandCandidates(probe, P, candidates, concurrency)) {
    const c = candidates[l.candidate]!;
    hits.push({ path: l.path, rec: l.rec, kind: locatedKind(c, l.rec, l.path, P), via: c.via });
  }
  const workon = envVar(ctx, 'WORKON_HOME');
  const pointerHomes = [...(workon ? [resolveIn(ctx, workon)] : []), pipenvHome(ctx)];
  const warnings: string[] = [];
  for (const root of [...new Set(plan.roots)]) {
    if (!filter.accept(root)) continue;
    if ((await probe.lstat(root)) === undefined) {
      warnings.push(`workspace ${root} does not exist`);
      continue;
    }
    const walked: Hit[] = [];
    const walk = { probe, P, filter, maxDepth: opts.maxDepth ?? DEFAULT_MAX_DEPTH, concurrency, pointerHomes };
    await walkWorkspace(root, walk, (f) => walked.push({ path: f.rec.path, rec: f.rec, kind: walkedKind(f), via: f.via, ...(f.alias ? { alias: f.alias } : {}) }));
    hits.push(...walked.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)));
  }
  const merged = await merge(hits, probe, filter);
  // PATH-scan mode: what the locators know outside the PATH only names the kind of
  // an env the walk reached through a pointer under it.
  const within = plan.within;
  const environments = within === undefined ? merged : merged.filter((e) => [e.path, ...e.aliases].some((p) => isUnder(P, within, p)));
  return { environments, counts: countKinds(environments), warnings: [...warnings, ...probe.warnings] };
}

/** Every environment of the user: the tools' places plus the workspace roots (default: home). */
export function discoverEnvironments(opts: DiscoverOptions = {}): Promise<DiscoveryResult> {
  const ctx = contextOf(opts);
  const P = pathOf(ctx.platform);
  return run(opts, { roots: (opts.workspaces ?? [ctx.home]).map((w) => P.resolve(ctx.home, w)) });
}

/**
 * PATH-scan mode: the environments at or under `root` — the walk of `root`
 * (node_modules, .git and the rest of the skip list left alone) plus what the
 * locators place under it, so a PATH inside ~/.cache still finds uv's envs.
 */
export function environmentsUnder(root: string, opts: DiscoverOptions = {}): Promise<DiscoveryResult> {
  const ctx = contextOf(opts);
  const abs = pathOf(ctx.platform).resolve(ctx.home, root);
  return run(opts, { roots: [abs], within: abs });
}
