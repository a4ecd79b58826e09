/**
 * Real ext4, XFS and btrfs filesystems for tests: a sparse image file under
 * os.tmpdir(), mkfs, `losetup --find --show`, `mount`. Needs Linux, root,
 * loop devices and the mkfs tool (e2fsprogs, xfsprogs, btrfs-progs; CI
 * installs them with apt). When any of that is missing, mountLoopFs returns
 * `{ skip: reason }` instead of a filesystem, and tests must report the
 * reason as a skip (useLoopFs / requireLoopFs below do), never pass.
 *
 * Set PYCSTORE_REQUIRE_LOOPFS=1 (CI does) to make every skip an error.
 *
 *   const xfs = useLoopFs('xfs');              // beforeAll mounts, afterAll cleans up
 *   it('reflinks', async (ctx) => {
 *     const fs = xfs.require(ctx);             // ctx.skip(reason) when unavailable
 *     ...fs.mountpoint...
 *   });
 *
 * Cleanup unmounts, detaches the loop device and deletes the directory. It is
 * idempotent, also runs on process exit and SIGINT/SIGTERM/SIGHUP, and every
 * mountLoopFs first sweeps leftovers of processes that died without cleaning
 * up (image directories carry the owner's pid). It never deletes a directory
 * that is still a mount point.
 *
 * The loop device is attached with an explicit `losetup` rather than
 * `mount -o loop` so that cleanup knows exactly which device is ours.
 */
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, type TestContext } from 'vitest';

export type LoopFsKind = 'ext4' | 'xfs' | 'btrfs';
export const LOOPFS_KINDS: readonly LoopFsKind[] = ['ext4', 'xfs', 'btrfs'];

export interface LoopFs {
  readonly kind: LoopFsKind;
  /** Root of the mounted filesystem (owned by root, mode 0755; its parent is 0755 too, so
   *  children run as another user can reach it once the test chmods/chowns what it needs). */
  readonly mountpoint: string;
  /** /dev/loopN backing the mount. */
  readonly device: string;
  /** The sparse image file. */
  readonly image: string;
  /** Unmount, detach, delete. Idempotent; safe to call after a failed test. */
  cleanup(): Promise<void>;
}

export interface LoopFsSkip {
  readonly skip: string;
}

export interface LoopFsOptions {
  /** Image size. Defaults: ext4 64, btrfs 256, xfs 300 (mkfs.xfs refuses less). */
  sizeMiB?: number;
  /** Extra mkfs arguments, e.g. ['-O', '^extref'] for btrfs. */
  mkfsArgs?: readonly string[];
  /** Extra mount options, e.g. 'nodatacow'. */
  mountOptions?: string;
}

const DEFAULT_MIB: Record<LoopFsKind, number> = { ext4: 64, btrfs: 256, xfs: 300 };
const MIN_MIB: Record<LoopFsKind, number> = { ext4: 2, btrfs: 110, xfs: 300 };
const MKFS: Record<LoopFsKind, { tool: string; pkg: string; args: readonly string[] }> = {
  ext4: { tool: 'mkfs.ext4', pkg: 'e2fsprogs', args: ['-q', '-F'] },
  xfs: { tool: 'mkfs.xfs', pkg: 'xfsprogs', args: ['-q', '-f', '-m', 'reflink=1'] },
  btrfs: { tool: 'mkfs.btrfs', pkg: 'btrfs-progs', args: ['-q', '-f'] },
};
const DIR_PREFIX = 'pycstore-loopfs-';
const run = promisify(execFile);
const ENV = { ...process.env, LC_ALL: 'C' };

export function isLoopFsSkip(x: LoopFs | LoopFsSkip): x is LoopFsSkip {
  return 'skip' in x;
}

/** Whether skips must become failures (PYCSTORE_REQUIRE_LOOPFS=1). */
export function loopFsRequired(): boolean {
  const v = process.env['PYCSTORE_REQUIRE_LOOPFS'];
  return v !== undefined && v !== '' && v !== '0';
}

/**
 * Mount a fresh filesystem of `kind`, or say precisely why not.
 * Throws only for caller mistakes (size below the mkfs minimum), or instead
 * of skipping when PYCSTORE_REQUIRE_LOOPFS is set.
 */
export async function mountLoopFs(kind: LoopFsKind, opts: LoopFsOptions = {}): Promise<LoopFs | LoopFsSkip> {
  const sizeMiB = opts.sizeMiB ?? DEFAULT_MIB[kind];
  if (!Number.isInteger(sizeMiB) || sizeMiB < MIN_MIB[kind]) {
    throw new RangeError(`mountLoopFs(${kind}): sizeMiB must be an integer >= ${MIN_MIB[kind]}, got ${sizeMiB}`);
  }
  const skip = (reason: string): LoopFsSkip => {
    const full = `${kind} loop filesystem unavailable: ${reason}`;
    if (loopFsRequired()) throw new Error(`${full} (PYCSTORE_REQUIRE_LOOPFS is set, so this is an error)`);
    return { skip: full };
  };

  const pre = preconditions(kind);
  if (pre) return skip(pre);
  await sweepStaleLoopFs();

  const dir = await mkdtemp(path.join(os.tmpdir(), `${DIR_PREFIX}${kind}-${process.pid}-`));
  const image = path.join(dir, `image.${kind}`);
  const mountpoint = path.join(dir, 'mnt');
  let device: string | undefined;
  let mounted = false;
  const undo = async (): Promise<void> => {
    if (mounted) await unmount(mountpoint);
    if (device) await detach(device, image);
    if (!isMountPoint(mountpoint)) await rm(dir, { recursive: true, force: true });
  };
  try {
    await chmod(dir, 0o755); // mkdtemp makes it 0700; let tests run children as other users
    await mkdir(mountpoint);
    const fh = await open(image, 'wx', 0o600);
    try {
      await fh.truncate(sizeMiB * 1024 * 1024); // sparse: costs only what mkfs and the test write
    } finally {
      await fh.close();
    }
    const mkfs = MKFS[kind];
    const mk = await tryRun(tool(mkfs.tool)!, [...mkfs.args, ...(opts.mkfsArgs ?? []), image]);
    if (mk) {
      await undo();
      return skip(`${mkfs.tool} failed: ${mk}`);
    }
    let attached: string | undefined;
    for (let attempt = 0; attempt < 5 && attached === undefined; attempt++) {
      try {
        attached = (await run(tool('losetup')!, ['--find', '--show', image], { env: ENV })).stdout.trim();
      } catch (e) {
        const msg = stderrOf(e);
        if (!/busy/i.test(msg) || attempt === 4) {
          await undo();
          return skip(`losetup --find --show failed (no free loop device, or loop devices not usable here): ${msg}`);
        }
        await sleep(100 * (attempt + 1)); // another process grabbed the same free device
      }
    }
    device = attached!;
    const mountArgs = ['-t', kind, ...(opts.mountOptions ? ['-o', opts.mountOptions] : []), device, mountpoint];
    const mo = await tryRun(tool('mount')!, mountArgs);
    if (mo) {
      await undo();
      return skip(`mount ${mountArgs.join(' ')} failed: ${mo}`);
    }
    mounted = true;
  } catch (e) {
    await undo().catch(() => {});
    throw e;
  }

  return makeHandle(kind, mountpoint, device, image, dir);
}

function makeHandle(kind: LoopFsKind, mountpoint: string, device: string, image: string, dir: string): LoopFs {
  let done: Promise<void> | undefined;
  const entry = { mountpoint, device, image, dir };
  live.add(entry);
  installExitHooks();
  return {
    kind,
    mountpoint,
    device,
    image,
    cleanup() {
      done ??= (async () => {
        await unmount(mountpoint);
        await detach(device, image);
        if (isMountPoint(mountpoint)) throw new Error(`loopfs: ${mountpoint} is still mounted; not deleting ${dir}`);
        await rm(dir, { recursive: true, force: true });
        live.delete(entry);
      })();
      return done;
    },
  };
}

/**
 * Vitest sugar: mount in beforeAll, clean up in afterAll (in the enclosing
 * describe, or the file). `require(ctx)` returns the filesystem, or marks the
 * test skipped with the reason as its note (shown by the default reporter as
 * `↓ name [reason]`); the reason is also printed with console.warn, so it
 * shows in any reporter.
 */
export function useLoopFs(kind: LoopFsKind, opts: LoopFsOptions = {}): {
  require(ctx: TestContext): LoopFs;
  readonly result: LoopFs | LoopFsSkip | undefined;
} {
  let result: LoopFs | LoopFsSkip | undefined;
  beforeAll(async () => {
    result = await mountLoopFs(kind, opts); // a skip is reported by require(), once per test
  });
  afterAll(async () => {
    if (result && !isLoopFsSkip(result)) await result.cleanup();
  });
  return {
    get result() {
      return result;
    },
    require(ctx: TestContext): LoopFs {
      if (result === undefined) throw new Error(`useLoopFs(${kind}): require() called before beforeAll ran`);
      return requireLoopFs(ctx, result);
    },
  };
}

/** For a result you mounted yourself: the filesystem, or ctx.skip(reason) after a console.warn. */
export function requireLoopFs(ctx: TestContext, result: LoopFs | LoopFsSkip): LoopFs {
  if (!isLoopFsSkip(result)) return result;
  console.warn(`[loopfs] SKIPPED "${ctx.task.name}": ${result.skip}`);
  return ctx.skip(result.skip);
}

// ---------------------------------------------------------------- internals

function preconditions(kind: LoopFsKind): string | undefined {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`;
  const euid = process.geteuid?.();
  if (euid !== 0) return `needs root to losetup and mount (running as euid ${euid}); run the tests as root or in CI`;
  const mkfs = MKFS[kind];
  if (!tool(mkfs.tool)) return `${mkfs.tool} not found in PATH or /usr/sbin, /sbin (apt-get install ${mkfs.pkg})`;
  for (const t of ['losetup', 'mount', 'umount']) {
    if (!tool(t)) return `${t} not found in PATH or /usr/sbin, /sbin (apt-get install mount)`;
  }
  if (!existsSync('/dev/loop-control') && !existsSync('/dev/loop0')) {
    return 'no /dev/loop-control or /dev/loop0 (loop driver not loaded, or a container without loop devices; modprobe loop, or run with --privileged)';
  }
  return undefined;
}

const toolCache = new Map<string, string | undefined>();
function tool(name: string): string | undefined {
  if (toolCache.has(name)) return toolCache.get(name);
  const dirs = [...(process.env['PATH'] ?? '').split(':').filter(Boolean), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  let found: string | undefined;
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      accessSync(p, constants.X_OK);
      found = p;
      break;
    } catch {
      /* next */
    }
  }
  toolCache.set(name, found);
  return found;
}

/** Runs a command; returns undefined on success, or a one-line description of the failure. */
async function tryRun(cmd: string, args: readonly string[]): Promise<string | undefined> {
  try {
    await run(cmd, [...args], { env: ENV });
    return undefined;
  } catch (e) {
    return stderrOf(e);
  }
}

function stderrOf(e: unknown): string {
  const err = e as { stderr?: string; code?: unknown; message?: string };
  const text = (err.stderr ?? '').trim() || err.message || String(e);
  return `${text.replace(/\s+/g, ' ')}${typeof err.code === 'number' ? ` (exit ${err.code})` : ''}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Decodes the octal escapes of /proc/self/mountinfo (\040 for space…). */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

function mountInfo(): { mountpoint: string; source: string }[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [left, right = ''] = line.split(' - ');
      const f = left!.split(' ');
      return { mountpoint: unescapeMount(f[4] ?? ''), source: unescapeMount(right.split(' ')[1] ?? '') };
    });
}

function isMountPoint(p: string): boolean {
  return mountInfo().some((m) => m.mountpoint === p);
}

/** Unmounts every mount stacked on `mountpoint`; EBUSY is retried, then detached lazily. */
async function unmount(mountpoint: string): Promise<void> {
  for (let attempt = 0; isMountPoint(mountpoint); attempt++) {
    const err = await tryRun(tool('umount')!, attempt < 10 ? [mountpoint] : ['-l', mountpoint]);
    if (err && attempt >= 10) throw new Error(`loopfs: cannot unmount ${mountpoint}: ${err}`);
    if (err) await sleep(100 * Math.min(attempt + 1, 5));
  }
}

/** Backing file of a loop device, or undefined when it is not attached. */
function backingFile(device: string): string | undefined {
  const name = path.basename(device);
  try {
    return readFileSync(`/sys/block/${name}/loop/backing_file`, 'utf8').trim().replace(/ \(deleted\)$/, '');
  } catch {
    return undefined;
  }
}

async function detach(device: string, image: string): Promise<void> {
  const back = backingFile(device);
  if (back === undefined) return; // already detached (autoclear after umount, or never attached)
  if (back !== image) return; // the device was reused by someone else: not ours any more
  for (let attempt = 0; backingFile(device) === image; attempt++) {
    const err = await tryRun(tool('losetup')!, ['-d', device]);
    if (!err) return; // with a lazy unmount the kernel detaches when the last user goes (autoclear)
    if (attempt >= 10) throw new Error(`loopfs: cannot detach ${device} (${image}): ${err}`);
    await sleep(100 * Math.min(attempt + 1, 5));
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes what dead test processes left behind: mounts, loop devices and
 * directories named pycstore-loopfs-<kind>-<pid>-* whose pid is gone.
 */
export async function sweepStaleLoopFs(): Promise<string[]> {
  const tmp = os.tmpdir();
  const swept: string[] = [];
  let names: string[];
  try {
    names = readdirSync(tmp).filter((n) => n.startsWith(DIR_PREFIX));
  } catch {
    return swept;
  }
  for (const name of names) {
    const m = /^pycstore-loopfs-(?:ext4|xfs|btrfs)-(\d+)-/.exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    const dir = path.join(tmp, name);
    const mountpoint = path.join(dir, 'mnt');
    try {
      await unmount(mountpoint);
      for (const dev of readdirSync('/sys/block').filter((d) => d.startsWith('loop'))) {
        const back = backingFile(`/dev/${dev}`);
        if (back !== undefined && path.dirname(back) === dir) await detach(`/dev/${dev}`, back);
      }
      if (!isMountPoint(mountpoint)) {
        await rm(dir, { recursive: true, force: true });
        swept.push(dir);
      }
    } catch (e) {
      console.warn(`[loopfs] could not sweep stale ${dir}: ${(e as Error).message}`);
    }
  }
  return swept;
}

// Last-resort cleanup when a test process ends without calling cleanup().
const live = new Set<{ mountpoint: string; device: string; image: string; dir: string }>();
let hooked = false;

function cleanupSync(): void {
  for (const e of live) {
    try {
      if (isMountPoint(e.mountpoint)) execFileSync(tool('umount')!, ['-l', e.mountpoint], { stdio: 'ignore' });
      if (backingFile(e.device) === e.image) execFileSync(tool('losetup')!, ['-d', e.device], { stdio: 'ignore' });
      if (!isMountPoint(e.mountpoint)) rmSync(e.dir, { recursive: true, force: true });
      live.delete(e);
    } catch {
      /* best effort; sweepStaleLoopFs finishes the job next time */
    }
  }
}

function installExitHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      cleanupSync();
      process.removeListener(sig, onSignal);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig); // default action: die
    };
    process.on(sig, onSignal);
  }
}
