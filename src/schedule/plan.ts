/**
 * Planning, pure: from what is on the machine now (a Snapshot, read by
 * apply.ts) and what was asked, the exact steps to take — files to write or
 * delete, commands to run, the new crontab — and what to report. `--dry-run`
 * prints a Plan; apply.ts carries one out.
 */
import { scheduleLogPath } from '../store/location.js';
import { cronBlock, cronBlockLines, withCronBlock, withoutCronBlock } from './cron.js';
import { type Backend, type Job, type Meta, parseMeta, type Target } from './job.js';
import { launchdLabel, launchdPlist } from './launchd.js';
import { type SystemdPaths, systemdUnitName, systemdUnits } from './systemd.js';
import { taskName, taskXml, taskXmlBytes } from './windows.js';

export type Snapshot =
  | {
      readonly backend: 'systemd';
      readonly paths: SystemdPaths;
      readonly service: string | undefined;
      readonly timer: string | undefined;
      readonly wantsLink: boolean;
      readonly stamp: boolean;
      /** A user manager answers: units can be enabled and started now. */
      readonly manager: boolean;
      /** `systemctl --user list-timers` row for the timer, when cheap to get. */
      readonly status: string | undefined;
    }
  | {
      readonly backend: 'cron';
      readonly crontab: string | null;
      /** There is no crontab command here (only when inspect was asked to tolerate it). */
      readonly missing?: boolean;
    }
  | {
      readonly backend: 'launchd';
      readonly plistPath: string;
      readonly plist: string | undefined;
      readonly domain: string;
      readonly status: string | undefined;
    }
  | { readonly backend: 'schtasks'; readonly xml: string | undefined; readonly missing?: boolean };

export type Step =
  | { readonly op: 'write'; readonly path: string; readonly content: string | Buffer }
  | { readonly op: 'delete'; readonly path: string }
  | {
      readonly op: 'run';
      readonly argv: readonly string[];
      /** A failure is expected sometimes (e.g. unloading what is not loaded) and is not an error. */
      readonly mayFail?: boolean;
    }
  /** Replace the user's crontab with `content` (`crontab -`), or delete it when null (`crontab -r`). */
  | { readonly op: 'crontab'; readonly content: string | null };

/** One thing installed: where it lives and its text. */
export interface Entry {
  readonly where: string;
  readonly text: string;
}

export interface Plan {
  readonly steps: readonly Step[];
  readonly wrote: readonly string[];
  readonly removed: readonly string[];
  /** What will be in place after install (the text as written). */
  readonly entries: readonly Entry[];
  /** The settings of what is removed, when it says. */
  readonly meta: Meta | undefined;
  /** Things the user should know (what was not done, and how to do it). */
  readonly notes: readonly string[];
}

export interface Installed {
  readonly installed: boolean;
  readonly meta: Meta | undefined;
  readonly entries: readonly Entry[];
  readonly status: string | undefined;
}

const systemctl = (...args: string[]): string[] => ['systemctl', '--user', ...args];

/** How `wrote`/`removed`/entries name the places that are not files. */
export const CRONTAB = 'crontab';

function taskWhere(target: Pick<Target, 'id'>): string {
  return `Task Scheduler task ${taskName(target)}`;
}

/** `taskFile`: where to put the task XML for schtasks to read (deleted right after). */
export function planInstall(job: Job, snap: Snapshot, opts: { taskFile: string }): Plan {
  const base = { removed: [] as string[], meta: undefined, notes: [] as string[] };
  switch (snap.backend) {
    case 'systemd': {
      const { service, timer } = systemdUnits(job);
      const name = `${systemdUnitName(job)}.timer`;
      const p = snap.paths;
      return {
        ...base,
        steps: [
          { op: 'write', path: p.service, content: service },
          { op: 'write', path: p.timer, content: timer },
          ...(snap.manager
            ? ([
                { op: 'run', argv: systemctl('daemon-reload') },
                { op: 'run', argv: systemctl('enable', name) },
                // restart, not start: a re-install must pick up a changed interval.
                { op: 'run', argv: systemctl('restart', name) },
              ] as const)
            : []),
        ],
        wrote: [p.service, p.timer],
        entries: [
          { where: p.service, text: service },
          { where: p.timer, text: timer },
        ],
        notes: snap.manager
          ? []
          : [
              'no systemd user manager answers here, so the timer is written but not enabled; in your session run:',
              `  systemctl --user daemon-reload && systemctl --user enable --now ${name}`,
            ],
      };
    }
    case 'cron': {
      return {
        ...base,
        steps: [{ op: 'crontab', content: withCronBlock(snap.crontab ?? '', job) }],
        wrote: [CRONTAB],
        // withCronBlock leaves exactly this one block for the store.
        entries: [{ where: CRONTAB, text: cronBlock(job).join('\n') }],
      };
    }
    case 'launchd': {
      const plist = launchdPlist(job);
      return {
        ...base,
        steps: [
          // Unload the old agent first, so a re-install takes the new settings.
          ...(snap.plist !== undefined ? [{ op: 'run', argv: ['launchctl', 'bootout', `${snap.domain}/${launchdLabel(job)}`], mayFail: true } as const] : []),
          { op: 'write', path: snap.plistPath, content: plist },
          { op: 'run', argv: ['launchctl', 'bootstrap', snap.domain, snap.plistPath] },
        ],
        wrote: [snap.plistPath],
        entries: [{ where: snap.plistPath, text: plist }],
      };
    }
    case 'schtasks': {
      const xml = taskXml(job);
      const file = opts.taskFile;
      return {
        ...base,
        steps: [
          { op: 'write', path: file, content: taskXmlBytes(xml) },
          { op: 'run', argv: ['schtasks', '/Create', '/TN', taskName(job), '/XML', file, '/F'] },
          { op: 'delete', path: file },
        ],
        wrote: [taskWhere(job)],
        entries: [{ where: taskWhere(job), text: xml }],
      };
    }
  }
}

export function planRemove(target: Target, snap: Snapshot): Plan {
  const base = { wrote: [] as string[], entries: [] as Entry[], notes: [] as string[] };
  const nothing = { ...base, steps: [], removed: [], meta: undefined };
  switch (snap.backend) {
    case 'systemd': {
      const p = snap.paths;
      if (snap.service === undefined && snap.timer === undefined && !snap.wantsLink) return nothing;
      const name = `${systemdUnitName(target)}.timer`;
      const files = [
        ...(snap.wantsLink ? [p.wantsLink] : []),
        ...(snap.timer !== undefined ? [p.timer] : []),
        ...(snap.service !== undefined ? [p.service] : []),
        ...(snap.stamp ? [p.stamp] : []),
      ];
      return {
        ...base,
        steps: [
          ...(snap.manager ? [{ op: 'run', argv: systemctl('disable', '--now', name), mayFail: true } as const] : []),
          ...files.map((path) => ({ op: 'delete', path }) as const),
          ...(snap.manager ? [{ op: 'run', argv: systemctl('daemon-reload') } as const] : []),
        ],
        removed: files,
        meta: parseMeta(snap.timer ?? snap.service ?? ''),
        notes: snap.manager
          ? []
          : ['no systemd user manager answers here: the files are deleted; a manager that had loaded the timer forgets it at its next daemon-reload'],
      };
    }
    case 'cron': {
      if (snap.crontab === null) return nothing;
      const block = cronBlockLines(snap.crontab, target.storeDir);
      if (block.length === 0) return nothing;
      const next = withoutCronBlock(snap.crontab, target.storeDir);
      return {
        ...base,
        // An empty crontab is deleted rather than left empty: no crontab is what there was before.
        steps: [{ op: 'crontab', content: next === '' ? null : next }],
        removed: [CRONTAB],
        meta: parseMeta(block.join('\n')),
      };
    }
    case 'launchd': {
      if (snap.plist === undefined) return nothing;
      return {
        ...base,
        steps: [
          { op: 'run', argv: ['launchctl', 'bootout', `${snap.domain}/${launchdLabel(target)}`], mayFail: true },
          { op: 'delete', path: snap.plistPath },
        ],
        removed: [snap.plistPath],
        meta: parseMeta(snap.plist),
      };
    }
    case 'schtasks': {
      if (snap.xml === undefined) return nothing;
      return {
        ...base,
        steps: [{ op: 'run', argv: ['schtasks', '/Delete', '/TN', taskName(target), '/F'] }],
        removed: [taskWhere(target)],
        meta: parseMeta(snap.xml),
      };
    }
  }
}

export function describeInstalled(target: Target, snap: Snapshot): Installed {
  const make = (entries: Entry[], status?: string): Installed => ({
    installed: entries.length > 0,
    meta: parseMeta(entries.map((e) => e.text).join('\n')),
    entries,
    status,
  });
  switch (snap.backend) {
    case 'systemd': {
      const entries: Entry[] = [];
      if (snap.service !== undefined) entries.push({ where: snap.paths.service, text: snap.service });
      if (snap.timer !== undefined) entries.push({ where: snap.paths.timer, text: snap.timer });
      return make(entries, snap.status);
    }
    case 'cron': {
      const lines = snap.crontab === null ? [] : cronBlockLines(snap.crontab, target.storeDir);
      return make(lines.length ? [{ where: CRONTAB, text: lines.join('\n') }] : []);
    }
    case 'launchd':
      return make(snap.plist === undefined ? [] : [{ where: snap.plistPath, text: snap.plist }], snap.status);
    case 'schtasks':
      return make(snap.xml === undefined ? [] : [{ where: taskWhere(target), text: snap.xml }]);
  }
}

/** Where a run's output goes, for the report. */
export function logWhere(backend: Backend, target: Target): string {
  switch (backend) {
    case 'systemd':
      return `the user journal: journalctl --user -u ${systemdUnitName(target)}.service`;
    case 'cron':
    case 'launchd':
      return scheduleLogPath(target.storeDir);
    case 'schtasks':
      return `Task Scheduler's history of ${taskName(target)} (schtasks /Query /TN ${taskName(target)} /V /FO LIST)`;
  }
}
