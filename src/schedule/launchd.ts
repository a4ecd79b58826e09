/**
 * The launchd backend (macOS), pure: the agent's label, its plist path and
 * the exact plist text. The job runs `/bin/sh -c` with the same commands as
 * cron (date stamp, optional dedup, gc); launchd appends stdout and stderr to
 * the log in the store. Not run on a real Mac by the tests: the plist is
 * parsed back with a real plist parser and its shell script run with /bin/sh.
 */
import path from 'node:path';
import { scheduleLogPath } from '../store/location.js';
import { CALENDAR_TIME } from './every.js';
import { type Job, jobCommands, metaLine, type Target } from './job.js';
import { shQuote, xmlText } from './quote.js';

export function launchdLabel(target: Pick<Target, 'id'>): string {
  return `pycstore.gc.${target.id}`;
}

export function launchdPlistPath(target: Pick<Target, 'id'>, home: string): string {
  return path.join(home, 'Library', 'LaunchAgents', `${launchdLabel(target)}.plist`);
}

/** The script given to /bin/sh -c. */
function launchdScript(job: Job): string {
  return ['date', ...jobCommands(job).map((argv) => argv.map(shQuote).join(' '))].join('; ');
}

const str = (s: string): string => `<string>${xmlText(s)}</string>`;
const int = (n: number): string => `<integer>${n}</integer>`;

function scheduleKeys(job: Job): string[] {
  const { hour, minute } = CALENDAR_TIME;
  if (job.every.kind === 'interval') return ['  <key>StartInterval</key>', `  ${int(job.every.minutes * 60)}`];
  return [
    '  <key>StartCalendarInterval</key>',
    '  <dict>',
    ...(job.every.kind === 'weekly' ? ['    <key>Weekday</key>', `    ${int(0)}`] : []),
    '    <key>Hour</key>',
    `    ${int(hour)}`,
    '    <key>Minute</key>',
    `    ${int(minute)}`,
    '  </dict>',
  ];
}

export function launchdPlist(job: Job): string {
  const log = scheduleLogPath(job.storeDir);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    // XML comments may not contain "--", so the store path is not repeated here; it is in ProgramArguments.
    `<!-- ${metaLine(job)}; written by pycstore schedule install; undo: pycstore schedule remove -->`,
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    `  ${str(launchdLabel(job))}`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    `    ${str('/bin/sh')}`,
    `    ${str('-c')}`,
    `    ${str(launchdScript(job))}`,
    '  </array>',
    ...scheduleKeys(job),
    '  <key>StandardOutPath</key>',
    `  ${str(log)}`,
    '  <key>StandardErrorPath</key>',
    `  ${str(log)}`,
    '  <key>ProcessType</key>',
    `  ${str('Background')}`,
    '  <key>LowPriorityIO</key>',
    '  <true/>',
    '  <key>Nice</key>',
    `  ${int(10)}`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}
