/**
 * From a locator's candidate (a folder and the pattern below it where envs
 * sit) to the environments there. Intermediate levels are real folders only;
 * at the last level symlinks are followed too (pyenv's versions/NAME, uv's
 * minor-version links): the merge lists each real path once.
 */
import type { PlatformPath } from 'node:path';
import type { QuietProbe } from './probe.js';
import { recogniseDir, recogniseInstall, type Recognised } from './recognise.js';
import type { Candidate } from './types.js';
import { drain } from './walk.js';

export interface Located {
  readonly candidate: number;
  readonly path: string;
  readonly rec: Recognised;
}

interface Step {
  readonly candidate: number;
  readonly dir: string;
  readonly level: number;
}

export async function expandCandidates(
  probe: QuietProbe,
  P: PlatformPath,
  candidates: readonly Candidate[],
  concurrency: number,
): Promise<Located[]> {
  const out: Located[] = [];
  const initial = candidates.map((c, candidate) => ({ candidate, dir: c.dir, level: 0 }));
  await drain<Step>(initial, concurrency, async (s, push) => {
    const c = candidates[s.candidate]!;
    if (s.level === c.pattern.length) {
      const rec = c.kinds.python ? await recogniseInstall(probe, P, s.dir) : await recogniseDir(probe, P, s.dir);
      if (rec) out.push({ candidate: s.candidate, path: s.dir, rec });
      return;
    }
    const seg = c.pattern[s.level]!;
    if (seg !== '*') return push({ ...s, dir: P.join(s.dir, seg), level: s.level + 1 });
    const last = s.level === c.pattern.length - 1;
    for (const e of (await probe.readdir(s.dir)) ?? []) {
      if (e.type === 'dir' || (last && e.type === 'symlink')) push({ ...s, dir: P.join(s.dir, e.name), level: s.level + 1 });
    }
  });
  return out.sort((a, b) => a.candidate - b.candidate || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
