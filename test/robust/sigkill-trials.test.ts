/**
 * A small seeded sample of the SIGKILL trials (scripts/sigkill-trials.mjs; the documented full
 * run is --trials 200): six trials covering dedup (first and incremental), gc, unshare and
 * verify --repair on ext4 hard links and XFS reflinks, plus a seventh sabotaged after its kill
 * (a pyc deleted, another replaced by other code) to prove the checks catch what they look for.
 * Needs root, loop devices, mkfs.xfs and strace: without them it says why and skips (it fails
 * instead when PYCSTORE_REQUIRE_LOOPFS or PYCSTORE_REQUIRE_STRACE is set, as CI does).
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/interpreters.js';
import { REQUIRE, requireOrSkip } from '../helpers/require.js';

const SCRIPT = path.join(REPO_ROOT, 'scripts', 'sigkill-trials.mjs');

function missing(): string | undefined {
  if (process.platform !== 'linux' || process.geteuid?.() !== 0) return 'needs Linux and root (loop-mounted ext4 and XFS)';
  for (const tool of ['strace', 'mkfs.xfs', 'mkfs.ext4']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool} || test -x /sbin/${tool} || test -x /usr/sbin/${tool}`]).status === 0;
    if (!found) return `${tool} not found (apt-get install strace xfsprogs e2fsprogs)`;
  }
  return undefined;
}

interface Trial {
  i: number;
  command: string;
  fs: string;
  kill: string;
  killed: boolean;
  lost: unknown[];
  corrupted: unknown[];
  imports: unknown[];
  failures: string[];
}

describe('SIGKILL trials (seeded sample)', () => {
  it('6 trials: killed at seeded points, nothing lost or corrupted, the next run completes; a sabotaged 7th is caught', async (ctx) => {
    const why = missing();
    requireOrSkip(ctx, why?.startsWith('strace') ? REQUIRE.strace : REQUIRE.loopfs, 'SIGKILL trials', why);
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [SCRIPT, '--trials', '7', '--seed', '11', '--sabotage', '7', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(out.stdout, out.stderr).not.toBe('');
    const { results } = JSON.parse(out.stdout) as { results: Trial[] };
    expect(results).toHaveLength(7);
    const clean = results.slice(0, 6);
    expect(new Set(clean.map((r) => r.command))).toEqual(new Set(['dedup-first', 'dedup-incremental', 'gc', 'unshare', 'verify-repair']));
    expect(new Set(clean.map((r) => r.fs))).toEqual(new Set(['ext4', 'xfs']));
    expect(clean.filter((r) => r.killed).length, out.stderr).toBeGreaterThanOrEqual(5);
    for (const r of clean) expect({ trial: r.i, lost: r.lost, corrupted: r.corrupted, imports: r.imports, failures: r.failures }, out.stderr).toEqual({ trial: r.i, lost: [], corrupted: [], imports: [], failures: [] });
    const sabotaged = results[6]!;
    expect(sabotaged.lost.length, 'the deleted pyc is reported lost').toBeGreaterThanOrEqual(1);
    expect(sabotaged.corrupted.length, 'the pyc of other code is reported').toBeGreaterThanOrEqual(1);
    expect(out.code).toBe(1); // the script fails when any trial fails: here the sabotaged one
  }, 1_800_000);
});
