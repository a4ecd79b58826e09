/**
 * The import rules (.dependency-cruiser.cjs: core < infra < features < api <
 * cli, features independent, no cycles) hold for src/, and the checker really
 * fails when one is broken: a copy of src/ with one upward import, one
 * import between features, one cycle. And no function in src/dedup/ is longer
 * than a screen.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/interpreters.js';

const DEPCRUISE = path.join(REPO_ROOT, 'node_modules', '.bin', 'depcruise');
const work = mkdtempSync(path.join(os.tmpdir(), 'pycstore-layers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function cruise(cwd: string): { code: number | null; out: string } {
  const r = spawnSync(DEPCRUISE, ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A copy of the project's src/ and rules, with `line` appended to `file`. */
function brokenCopy(name: string, file: string, line: string): string {
  const dir = path.join(work, name);
  cpSync(path.join(REPO_ROOT, 'src'), path.join(dir, 'src'), { recursive: true });
  for (const f of ['.dependency-cruiser.cjs', 'tsconfig.json', 'package.json']) cpSync(path.join(REPO_ROOT, f), path.join(dir, f));
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  appendFileSync(path.join(dir, 'src', file), `\n${line}\n`);
  return dir;
}

describe('layers', () => {
  it('src/ keeps the rules', () => {
    const r = cruise(REPO_ROOT);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/no dependency violations found/);
  });

  it('an upward import fails the check (core importing a feature)', () => {
    const r = cruise(brokenCopy('upward', 'pyc/magic.ts', "export { runDedup } from '../dedup/run.js';"));
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/error core-is-pure: src\/pyc\/magic\.ts → src\/dedup\/run\.ts/);
  });

  it('infra importing a feature, a feature importing another, and a cycle each fail it', () => {
    const infra = cruise(brokenCopy('infra', 'store/objects.ts', "export type { GcReport } from '../gc/run.js';"));
    expect(infra.code).not.toBe(0);
    expect(infra.out).toMatch(/error infra-below-features: src\/store\/objects\.ts → src\/gc\/run\.ts/);
    const sideways = cruise(brokenCopy('sideways', 'unshare/plan.ts', "export type { GcPlan } from '../gc/plan.js';"));
    expect(sideways.code).not.toBe(0);
    expect(sideways.out).toMatch(/error features-independent: src\/unshare\/plan\.ts → src\/gc\/plan\.ts/);
    const cycle = cruise(brokenCopy('cycle', 'dedup/plan.ts', "export { applyPlan } from './apply.js';"));
    expect(cycle.code).not.toBe(0);
    expect(cycle.out).toMatch(/error no-circular: [^\n]*\n(\s+src\/dedup\/\w+\.ts →\n)*\s+src\/dedup\/plan\.ts →/);
  });
});

describe('function length', () => {
  it('no function in src/dedup/ is over 80 lines (scripts/function-lengths.mjs)', () => {
    const out = execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'function-lengths.mjs'), '--max', '80', 'src/dedup'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(out).toMatch(/^0 functions over 80 lines$/m);
  });
});
