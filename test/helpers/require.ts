/**
 * What some tests need and a machine may lack: root, a tool, every CPython
 * version, a cron daemon. Where it is missing such a test says so (one line on
 * stderr, with the reason) and skips — unless its PYCSTORE_REQUIRE_* variable
 * is set (CI sets every one of them, .ci/run), and then it FAILS: a missing
 * tool can never turn CI green by skipping.
 */
import type { TestContext } from 'vitest';

export const REQUIRE = {
  /** Loop-mounted ext4/XFS/btrfs images (root, losetup, mkfs.*): test/helpers/loopfs.ts. */
  loopfs: 'PYCSTORE_REQUIRE_LOOPFS',
  /** Running as root (chown to another user, mount a tmpfs, chattr). */
  root: 'PYCSTORE_REQUIRE_ROOT',
  /** chattr +i on the test filesystem. */
  chattr: 'PYCSTORE_REQUIRE_CHATTR',
  /** The real crontab of a throwaway user (cron package, root). */
  cron: 'PYCSTORE_REQUIRE_CRON',
  /** A real cron daemon running the installed line (~1 min). */
  cronDaemon: 'PYCSTORE_REQUIRE_CRON_DAEMON',
  /** systemd-analyze (Debian package systemd). */
  systemd: 'PYCSTORE_REQUIRE_SYSTEMD_ANALYZE',
  /** python3 with plistlib and ElementTree (schedule backends' files parsed back). */
  python3: 'PYCSTORE_REQUIRE_PYTHON3',
  /** Every CPython 3.8–3.15 (pyenv, and .cache/pythons for 3.14/3.15). */
  pythons: 'PYCSTORE_REQUIRE_PYTHONS',
  /** The Debian packages the corpus builder downloads (apt-get download). */
  corpus: 'PYCSTORE_REQUIRE_CORPUS',
  /** strace: SIGKILL at a chosen syscall, syscalls slowed so a signal lands mid-run (interrupts, crash trials). */
  strace: 'PYCSTORE_REQUIRE_STRACE',
} as const;

export type Requirement = (typeof REQUIRE)[keyof typeof REQUIRE];

export function isRequired(env: Requirement): boolean {
  const v = process.env[env];
  return v !== undefined && v !== '' && v !== '0';
}

/**
 * Is `what` available? `missing` is why not (undefined: it is). When missing: an Error if `env` is
 * set, else a visible line on stderr and false (the caller skips).
 */
export function available(env: Requirement, what: string, missing: string | undefined): boolean {
  if (missing === undefined) return true;
  if (isRequired(env)) throw new Error(`${what}: ${missing} (${env} is set, so this is a failure, not a skip)`);
  console.warn(`[skip] ${what}: ${missing} (set ${env}=1 to make this a failure)`);
  return false;
}

/** Inside a test: go on when available; else fail (required) or skip with the reason. */
export function requireOrSkip(ctx: TestContext, env: Requirement, what: string, missing: string | undefined): void {
  if (available(env, what, missing)) return;
  ctx.skip(`${what}: ${missing}`);
}

export const isRoot = process.getuid?.() === 0;
