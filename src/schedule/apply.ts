/**
 * The side effects of `pycstore schedule`: read what is installed now (a
 * Snapshot for plan.ts) and carry out a Plan step by step. Files are written
 * temp → rename; every command's failure is an ESCHEDULE error that says
 * which steps were already done.
 */
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { processAlive } from '../fs/leftovers.js';
import path from 'node:path';
import { PycstoreError } from '../errors.js';
import type { Backend, Target } from './job.js';
import { launchdLabel, launchdPlistPath } from './launchd.js';
import type { Plan, Snapshot, Step } from './plan.js';
import { systemdPaths, systemdUnitName } from './systemd.js';
import { type ExecResult, type System, userManagerReachable } from './system.js';
import { taskName } from './windows.js';

function noCrontab(): PycstoreError {
  return new PycstoreError('ESCHEDULE', 'there is no crontab command: cron is not installed', {
    hint:
      'install cron: Debian/Ubuntu: sudo apt-get install cron; Fedora/RHEL: sudo dnf install cronie; Arch: sudo pacman -S cronie' +
      ' (then start it: sudo systemctl enable --now cron, or sudo service cron start)',
  });
}

async function readText(p: string): Promise<string | undefined> {
  try {
    return await readFile(p, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PycstoreError('ESCHEDULE', `cannot read ${p}: ${(err as Error).message}`, { cause: err });
  }
}

/** lstat, not access: a wants-link whose timer is gone still counts (remove deletes it). */
async function present(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

function failed(what: string, r: ExecResult): string {
  const why = (r.stderr || r.stdout).trim();
  return `${what} failed${r.code === null ? '' : ` (exit ${r.code})`}${why ? `: ${why}` : ''}`;
}

/** The user's crontab, or null when there is none. Fails with the package to install when there is no crontab command. */
async function readCrontab(sys: System): Promise<string | null> {
  return crontabFrom(await sys.exec(['crontab', '-l']));
}

/** What `crontab -l` answered. */
function crontabFrom(r: ExecResult): string | null {
  if (r.missing) throw noCrontab();
  if (r.code === 0) return r.stdout;
  if (/no crontab/i.test(r.stderr)) return null;
  throw new PycstoreError('ESCHEDULE', failed('crontab -l', r), { hint: 'is this user allowed to use cron? see /etc/cron.allow and /etc/cron.deny' });
}

/**
 * What is installed for `target` now. `withStatus`: also ask the scheduler
 * about runs (for show). `managerAnswered`: detection already reached the
 * systemd user manager, so it is not asked again. `tolerateMissing`: a
 * scheduler whose command is not installed (no crontab) holds nothing, rather
 * than being an error (for show, remove and install --dry-run).
 */
export async function inspect(
  backend: Backend,
  target: Target,
  sys: System,
  opts: { withStatus?: boolean; managerAnswered?: boolean; tolerateMissing?: boolean } = {},
): Promise<Snapshot> {
  const { withStatus = false, managerAnswered = false, tolerateMissing = false } = opts;
  switch (backend) {
    case 'systemd': {
      const paths = systemdPaths(target, sys.env, sys.home);
      const [service, timer, wantsLink, stamp, manager] = await Promise.all([
        readText(paths.service),
        readText(paths.timer),
        present(paths.wantsLink),
        present(paths.stamp),
        managerAnswered || userManagerReachable(sys),
      ]);
      let status: string | undefined;
      if (withStatus && manager && timer !== undefined) {
        const r = await sys.exec(['systemctl', '--user', 'list-timers', '--all', '--no-pager', `${systemdUnitName(target)}.timer`]);
        if (r.code === 0) status = r.stdout.trimEnd();
      }
      return { backend, paths, service, timer, wantsLink, stamp, manager, status };
    }
    case 'cron': {
      const r = await sys.exec(['crontab', '-l']);
      if (r.missing && tolerateMissing) return { backend, crontab: null, missing: true };
      return { backend, crontab: crontabFrom(r) };
    }
    case 'launchd': {
      const plistPath = launchdPlistPath(target, sys.home);
      const plist = await readText(plistPath);
      const domain = `gui/${sys.uid}`;
      let status: string | undefined;
      if (withStatus && plist !== undefined) {
        const r = await sys.exec(['launchctl', 'print', `${domain}/${launchdLabel(target)}`]);
        status = r.code === 0 ? 'loaded in launchd' : 'not loaded in launchd (log out and in, or run install again)';
      }
      return { backend, plistPath, plist, domain, status };
    }
    case 'schtasks': {
      const r = await sys.exec(['schtasks', '/Query', '/TN', taskName(target), '/XML']);
      if (r.missing && tolerateMissing) return { backend, xml: undefined, missing: true };
      if (r.missing) throw new PycstoreError('ESCHEDULE', 'there is no schtasks command', { hint: 'schtasks.exe comes with Windows (C:\\Windows\\System32)' });
      const xml = r.code === 0 ? r.stdout.replace(/^\uFEFF/, '').replace(/\u0000/g, '') : undefined;
      return { backend, xml };
    }
  }
}

/** `<file>.tmp-<pid>` left beside `p` by a schedule run that was killed before its rename: removed (pid gone). */
async function removeLeftovers(p: string): Promise<void> {
  const prefix = `${path.basename(p)}.tmp-`;
  for (const name of await readdir(path.dirname(p))) {
    const pid = name.startsWith(prefix) ? Number(name.slice(prefix.length)) : NaN;
    if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) await rm(path.join(path.dirname(p), name), { force: true });
  }
}

async function writeAtomic(p: string, content: string | Buffer): Promise<void> {
  await mkdir(path.dirname(p), { recursive: true });
  await removeLeftovers(p);
  const tmp = `${p}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, content, { flag: 'wx', mode: 0o644 });
    await rename(tmp, p);
  } finally {
    await rm(tmp, { force: true });
  }
}

export function describeStep(step: Step): string {
  switch (step.op) {
    case 'write':
      return `write ${step.path}`;
    case 'delete':
      return `delete ${step.path}`;
    case 'run':
      return `run ${step.argv.join(' ')}`;
    case 'crontab':
      return step.content === null ? 'delete the crontab (crontab -r)' : 'install the new crontab (crontab -)';
  }
}

async function applyStep(step: Step, sys: System): Promise<void> {
  switch (step.op) {
    case 'write':
      return writeAtomic(step.path, step.content);
    case 'delete':
      return rm(step.path, { force: true });
    case 'run': {
      const r = await sys.exec(step.argv);
      if (r.missing) throw new PycstoreError('ESCHEDULE', `${step.argv[0]} is not installed or not on PATH`);
      if (r.code !== 0 && !step.mayFail) throw new PycstoreError('ESCHEDULE', failed(step.argv.join(' '), r));
      return;
    }
    case 'crontab': {
      const r = step.content === null ? await sys.exec(['crontab', '-r']) : await sys.exec(['crontab', '-'], { input: step.content });
      if (r.missing) throw noCrontab();
      if (r.code !== 0 && !(step.content === null && /no crontab/i.test(r.stderr))) {
        throw new PycstoreError('ESCHEDULE', failed(step.content === null ? 'crontab -r' : 'crontab -', r), {
          hint: /too long/i.test(r.stderr) ? "this cron limits a command's length: use a shorter --store path" : undefined,
        });
      }
      // Read it back: what cron has is what we report.
      const now = await readCrontab(sys);
      if (now !== step.content) {
        throw new PycstoreError('ESCHEDULE', 'after writing the crontab, crontab -l shows something else than what was written', {
          hint: 'another program may have changed it at the same time; check with: crontab -l',
          data: { expected: step.content, found: now },
        });
      }
      return;
    }
  }
}

/** Carry out the plan in order; on failure say what was done before it. */
export async function applyPlan(plan: Plan, sys: System): Promise<void> {
  const done: string[] = [];
  for (const step of plan.steps) {
    try {
      await applyStep(step, sys);
    } catch (err) {
      const e = err instanceof PycstoreError ? err : new PycstoreError('ESCHEDULE', (err as Error).message, { cause: err });
      const already = done.length ? `done before it: ${done.join('; ')}` : 'it was the first step';
      throw new PycstoreError('ESCHEDULE', `${describeStep(step)}: ${e.message}`, {
        hint: [e.hint, already].filter(Boolean).join('; '),
        cause: err,
        data: { done, ...(e.data ?? {}) },
        exit: done.length ? 1 : 2,
      });
    }
    done.push(describeStep(step));
  }
}
