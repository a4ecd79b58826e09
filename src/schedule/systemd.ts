/**
 * The systemd backend, pure: the user unit names, the directories they go
 * in, and the exact text of the .service and .timer.
 *
 * daily/weekly use OnCalendar= with Persistent=true (a run missed while the
 * machine was off happens at the next boot); intervals use OnBootSec= and
 * OnUnitActiveSec= (Persistent= has no effect on those, so it is left out).
 * Output goes to the user journal.
 */
import path from 'node:path';
import { CALENDAR_CLOCK, describeEvery, type Every, formatMinutes } from './every.js';
import { type Job, jobCommands, jobLabel, metaLine, type Target } from './job.js';
import { shQuote, systemdQuote } from './quote.js';

export function systemdUnitName(target: Pick<Target, 'id'>): string {
  return `pycstore-gc-${target.id}`;
}

export interface SystemdPaths {
  readonly unitDir: string;
  readonly service: string;
  readonly timer: string;
  /** The symlink `systemctl enable` makes. */
  readonly wantsLink: string;
  /** Where the user manager records a Persistent= timer's last run. */
  readonly stamp: string;
}

function xdgDir(env: NodeJS.ProcessEnv, name: string, home: string, fallback: string): string {
  const v = env[name];
  return v && path.isAbsolute(v) ? v : path.join(home, fallback);
}

export function systemdPaths(target: Pick<Target, 'id'>, env: NodeJS.ProcessEnv, home: string): SystemdPaths {
  const unitDir = path.join(xdgDir(env, 'XDG_CONFIG_HOME', home, '.config'), 'systemd', 'user');
  const name = systemdUnitName(target);
  return {
    unitDir,
    service: path.join(unitDir, `${name}.service`),
    timer: path.join(unitDir, `${name}.timer`),
    wantsLink: path.join(unitDir, 'timers.target.wants', `${name}.timer`),
    stamp: path.join(xdgDir(env, 'XDG_DATA_HOME', home, '.local/share'), 'systemd', 'timers', `stamp-${name}.timer`),
  };
}

/** A systemd time span for whole minutes: "30min", "6h", "2d", "1w" (formatMinutes, with systemd's "min"). */
export function systemdTimespan(minutes: number): string {
  return formatMinutes(minutes).replace(/m$/, 'min');
}

/** The [Timer] lines for `every`. */
function systemdTimerLines(every: Every): string[] {
  const at = `${CALENDAR_CLOCK}:00`;
  if (every.kind === 'daily') return [`OnCalendar=*-*-* ${at}`, 'Persistent=true'];
  if (every.kind === 'weekly') return [`OnCalendar=Sun *-*-* ${at}`, 'Persistent=true'];
  const span = systemdTimespan(every.minutes);
  return [`OnBootSec=${span}`, `OnUnitActiveSec=${span}`];
}

function header(job: Job): string[] {
  return [
    `# ${metaLine(job)}`,
    `# Written by pycstore schedule install for the store ${shQuote(job.storeDir)}.`,
    `# Undo: pycstore schedule remove --store ${shQuote(job.storeDir)}`,
  ];
}

export function systemdUnits(job: Job): { service: string; timer: string } {
  const commands = jobCommands(job);
  const exec = commands.map((argv, i) => {
    // A failed dedup must not stop gc: "-" makes systemd go on to the next ExecStart=.
    const ignoreFailure = i < commands.length - 1 ? '-' : '';
    return `ExecStart=${ignoreFailure}${argv.map(systemdQuote).join(' ')}`;
  });
  const service = [
    ...header(job),
    '[Unit]',
    `Description=pycstore ${jobLabel(job.dedup)} (store ${job.id})`,
    '',
    '[Service]',
    'Type=oneshot',
    ...exec,
    'Nice=10',
    'IOSchedulingClass=idle',
    '',
  ].join('\n');
  const timer = [
    ...header(job),
    '[Unit]',
    `Description=pycstore ${jobLabel(job.dedup)} ${describeEvery(job.every)} (store ${job.id})`,
    '',
    '[Timer]',
    ...systemdTimerLines(job.every),
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  return { service, timer };
}
