// Shared helpers for the verification scripts: throwaway loop filesystems,
// tmpfs and overlayfs mounts that are always unmounted and detached, even when
// a script throws (finally + process 'exit'). Linux, root. No dependencies.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

process.env.PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;
process.env.LC_ALL = 'C';

const mounts = []; // unmount in reverse order
const loops = [];
const dirs = [];

export function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

/** Runs fn; returns 'ok' or the error's code (EMLINK, EXDEV…). */
export function errCode(fn) {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e.code ?? String(e.message).split('\n')[0];
  }
}

export async function errCodeAsync(fn) {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    return e.code ?? String(e.message).split('\n')[0];
  }
}

export function tmpdir(tag) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `pycstore-verify-${tag}-`));
  dirs.push(d);
  return d;
}

const MKFS = {
  ext4: ['mkfs.ext4', ['-q', '-F']],
  xfs: ['mkfs.xfs', ['-q', '-f', '-m', 'reflink=1']],
  btrfs: ['mkfs.btrfs', ['-q', '-f']],
};
const DEFAULT_MIB = { ext4: 64, xfs: 300, btrfs: 256 };

/** Mounts kind ('ext4' | 'xfs' | 'btrfs' | 'tmpfs') and returns its mountpoint. */
export function mountFs(kind, { sizeMiB, mkfsArgs = [], mountOpts } = {}) {
  const dir = tmpdir(kind);
  const mnt = path.join(dir, 'mnt');
  fs.mkdirSync(mnt);
  if (kind === 'tmpfs') {
    sh('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB ?? 256}m${mountOpts ? ',' + mountOpts : ''}`, 'tmpfs', mnt]);
    mounts.push(mnt);
    return mnt;
  }
  const img = path.join(dir, 'image');
  fs.writeFileSync(img, '');
  fs.truncateSync(img, (sizeMiB ?? DEFAULT_MIB[kind]) * 1024 * 1024);
  const [tool, args] = MKFS[kind];
  sh(tool, [...args, ...mkfsArgs, img]);
  const dev = sh('losetup', ['--find', '--show', img]).trim();
  loops.push(dev);
  sh('mount', ['-t', kind, ...(mountOpts ? ['-o', mountOpts] : []), dev, mnt]);
  mounts.push(mnt);
  return mnt;
}

/** overlayfs with the given lower and upper directories (work dir is created next to upper). */
export function mountOverlay(lower, upper, work) {
  const dir = tmpdir('overlay');
  const mnt = path.join(dir, 'mnt');
  fs.mkdirSync(mnt);
  sh('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, mnt]);
  mounts.push(mnt);
  return mnt;
}

export function bindMount(src) {
  const dir = tmpdir('bind');
  const mnt = path.join(dir, 'mnt');
  fs.mkdirSync(mnt);
  sh('mount', ['--bind', src, mnt]);
  mounts.push(mnt);
  return mnt;
}

export function cleanup() {
  while (mounts.length) {
    const m = mounts.pop();
    try {
      sh('umount', [m]);
    } catch {
      try {
        sh('umount', ['-l', m]);
      } catch {
        /* reported by the final check */
      }
    }
  }
  while (loops.length) {
    const d = loops.pop();
    try {
      sh('losetup', ['-d', d]);
    } catch {
      /* already gone */
    }
  }
  while (dirs.length) fs.rmSync(dirs.pop(), { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

/** Runs main(), always cleans up, exits non-zero on error. */
export async function main(fn) {
  if (process.getuid() !== 0) {
    console.error('run as root: it mounts loop filesystems');
    process.exit(2);
  }
  try {
    await fn();
  } catch (e) {
    console.error(e);
    process.exitCode = 1;
  } finally {
    cleanup();
  }
}

/** Kernel and tool versions, printed at the top of every script's output. */
export function header(title) {
  console.log(`# ${title}`);
  console.log(`# ${new Date().toISOString().slice(0, 10)}, Linux ${os.release()}, Node ${process.version}`);
}

export function statNs(p) {
  const s = fs.statSync(p, { bigint: true });
  return { ino: s.ino, nlink: Number(s.nlink), mode: Number(s.mode & 0o7777n), uid: Number(s.uid), ctime: s.ctimeNs, mtime: s.mtimeNs, dev: s.dev };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
