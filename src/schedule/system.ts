/**
 * Everything `pycstore schedule` asks of the machine, as one object so tests
 * can point it at a temp HOME, a throwaway user's crontab, or a fake
 * systemctl: the platform, environment, home and uid, the absolute Node and
 * cli.js to schedule, child processes, and the probes that pick a backend.
 * Files under HOME are read and written with the real fs.
 */
import { spawn } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { listDir } from '../fs/list.js';
import type { Backend } from './job.js';

export interface ExecResult {
  /** Exit code; null when the program could not be started or was killed. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The program does not exist (ENOENT). */
  readonly missing: boolean;
}

export interface System {
  readonly platform: NodeJS.Platform;
  readonly env: NodeJS.ProcessEnv;
  readonly home: string;
  readonly uid: number;
  /** Absolute Node binary to schedule (process.execPath). */
  readonly node: string;
  /** Absolute pycstore dist/cli.js to schedule. */
  readonly cli: string;
  readonly tmpDir: string;
  exec(argv: readonly string[], opts?: { input?: string }): Promise<ExecResult>;
  /** For the detection probes (/run/systemd/system, the user manager's socket). */
  pathExists(p: string): Promise<boolean>;
  /** Whether a cron daemon process is running; undefined when it can't tell. */
  cronDaemonRunning(): Promise<boolean | undefined>;
}

export function execFile(argv: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) => {
      resolve({ code: null, stdout, stderr: stderr || err.message, missing: err.code === 'ENOENT' });
    });
    child.on('close', (code) => resolve({ code, stdout, stderr, missing: false }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** The names a cron daemon's process has (cron, cronie, busybox). */
const CRON_NAMES = /^(cron|crond|cronie|busybox-crond)$/;

/** The name and state of the process whose /proc/PID/stat reads `stat` (the name, in parentheses, may itself hold spaces or parentheses). */
function nameAndState(stat: string): { name: string; state: string } | undefined {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  return { name: stat.slice(open + 1, close), state: stat.slice(close + 2, close + 3) };
}

/**
 * Is the process whose /proc/PID/stat reads `stat` a live cron daemon? Its name is cron's, and its
 * state is not Z or X: a cron that has exited but was not reaped yet runs nothing.
 */
export function isLiveCron(stat: string): boolean {
  const p = nameAndState(stat);
  return p !== undefined && CRON_NAMES.test(p.name) && p.state !== 'Z' && p.state !== 'X';
}

/** The /proc/PID/stat of every process named as a cron daemon is, in any state; undefined where /proc can't be read (macOS). */
export async function cronProcesses(): Promise<string[] | undefined> {
  let unreadable = false;
  const pids = listDir('/proc', () => (unreadable = true))
    .map((e) => e.name)
    .filter((n) => /^\d+$/.test(n));
  if (unreadable || pids.length === 0) return undefined;
  const stats = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')));
  return stats.filter((s) => CRON_NAMES.test(nameAndState(s)?.name ?? ''));
}

async function cronDaemonRunning(): Promise<boolean | undefined> {
  return (await cronProcesses())?.some(isLiveCron);
}

/** The real machine; `cli` is pycstore's dist/cli.js as found from the calling module. */
export function realSystem(env: NodeJS.ProcessEnv, cli: string): System {
  return {
    platform: process.platform,
    env,
    home: env['HOME'] || os.homedir(),
    uid: process.getuid?.() ?? 0,
    node: process.execPath,
    cli,
    tmpDir: os.tmpdir(),
    exec: (argv, opts = {}) => execFile(argv, { ...opts, env }),
    pathExists: exists,
    cronDaemonRunning,
  };
}

const MANAGER_STATES = new Set(['initializing', 'starting', 'running', 'degraded', 'maintenance', 'stopping']);

/** A systemd user manager we can talk to: its private socket exists, or `systemctl --user` answers. */
export async function userManagerReachable(sys: System): Promise<boolean> {
  const runtime = sys.env['XDG_RUNTIME_DIR'];
  if (runtime && (await sys.pathExists(path.join(runtime, 'systemd', 'private')))) return true;
  const r = await sys.exec(['systemctl', '--user', 'is-system-running']);
  return !r.missing && MANAGER_STATES.has(r.stdout.trim());
}

/** The schedulers a pycstore schedule may be in on this platform, the usual one first. */
export function backendsFor(platform: NodeJS.Platform): Backend[] {
  if (platform === 'win32') return ['schtasks'];
  if (platform === 'darwin') return ['launchd', 'cron'];
  return ['systemd', 'cron'];
}

export async function detectBackend(sys: System): Promise<{ backend: Backend; why: string }> {
  if (sys.platform === 'win32') return { backend: 'schtasks', why: 'Windows' };
  if (sys.platform === 'darwin') return { backend: 'launchd', why: 'macOS' };
  if (!(await sys.pathExists('/run/systemd/system'))) return { backend: 'cron', why: 'systemd is not the init system here' };
  if (!(await userManagerReachable(sys))) return { backend: 'cron', why: 'no systemd user manager answers for this user' };
  return { backend: 'systemd', why: 'a systemd user manager runs this session' };
}
