/** Small helpers the locators share. */
import type { Candidate, EnvKind, EnvLayout, PathContext } from '../types.js';
import { pathOf } from '../platform-dirs.js';

/** Each child of `dir` is an environment of `kind` (a venv; interpreters and conda prefixes as given). */
export function childrenOf(dir: string, kinds: Partial<Record<EnvLayout, EnvKind>>, via: string): Candidate {
  return { dir, pattern: ['*'], kinds, via };
}

/** `dir` itself is an environment. */
export function itself(dir: string, kinds: Partial<Record<EnvLayout, EnvKind>>, via: string): Candidate {
  return { dir, pattern: [], kinds, via };
}

export function join(ctx: PathContext, ...parts: string[]): string {
  return pathOf(ctx.platform).join(...parts);
}

/** The platform name used in "default (linux)"-style derivations. */
export function defaultVia(ctx: PathContext, rule: string): string {
  return `default on ${ctx.platform}: ${rule}`;
}
