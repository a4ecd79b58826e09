/**
 * A real cron daemon for the tests that let cron run the installed line: the
 * machine's own when cron's pid file names a live one, otherwise `cron -f`
 * started here and known to be up once the pid file names it (Debian's cron
 * locks that file, so a second daemon refuses to start and says why).
 * Stopping waits for the daemon to exit.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cronProcesses, execFile, isLiveCron } from '../../src/schedule/system.js';
import { until } from '../helpers/cli.js';

const PID_FILES = ['/run/crond.pid', '/var/run/crond.pid'];

export interface CronDaemon {
  /** Whether this test started it (false: the machine's own daemon). */
  readonly started: boolean;
  stop(): Promise<void>;
}

function pidFileSays(): number | undefined {
  for (const f of PID_FILES) {
    try {
      return Number(readFileSync(f, 'utf8').trim());
    } catch {
      // the next one
    }
  }
  return undefined;
}

function liveCron(pid: number | undefined): boolean {
  try {
    return pid !== undefined && isLiveCron(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Start `cron -f`: the daemon once the pid file names it, or what it said when it exited (another holds the lock). */
async function startCron(): Promise<CronDaemon | { refused: string }> {
  const child = spawn('cron', ['-f'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let gone = false;
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve())).then(() => (gone = true));
  await until('cron -f to hold its pid file or exit', () => gone || pidFileSays() === child.pid, 10_000);
  if (gone) return { refused: stderr.trim() || '(nothing on stderr)' };
  return {
    started: true,
    stop: async () => {
      child.kill();
      await exited;
    },
  };
}

/** The machine's cron daemon if the pid file names a live one; else ours (cron -f refusing to start fails the test, with its words). */
export async function cronDaemon(): Promise<CronDaemon> {
  if (liveCron(pidFileSays())) return { started: false, stop: async () => undefined };
  const tried = await startCron();
  if ('refused' in tried) throw new Error(`no cron daemon: cron -f said ${tried.refused}`);
  return tried;
}

/** What a timed-out cron test shows: the cron processes (/proc/PID/stat: pid, name, state, parent) and a user's crontab. */
export async function cronState(user: string): Promise<string> {
  const crons = ((await cronProcesses()) ?? []).map((s) => s.split(' ').slice(0, 4).join(' '));
  const tab = await execFile(['crontab', '-u', user, '-l']);
  return [`cron processes (pid name state ppid): ${crons.join('; ') || 'none'}`, `crontab of ${user}:\n${tab.code === 0 ? tab.stdout : tab.stderr}`].join('\n');
}
