/**
 * The Task Scheduler backend (Windows), pure: the task's name and the exact
 * task XML for `schtasks /Create /XML`. One Exec action per command; Task
 * Scheduler runs them in order. Not run on real Windows by the tests: the XML
 * is parsed back with a real XML parser and checked element by element.
 *
 * Task Scheduler keeps no output: a run's result shows in the task's History
 * and "Last Run Result" (schtasks /Query /TN NAME /V /FO LIST).
 */
import { PycstoreError } from '../errors.js';
import { CALENDAR_CLOCK } from './every.js';
import { type Job, jobCommands, metaLine, type Target } from './job.js';
import { windowsQuoteArg, xmlText } from './quote.js';

/** In the root folder: creating a folder of tasks may need an administrator. */
export function taskName(target: Pick<Target, 'id'>): string {
  return `pycstore-gc-${target.id}`;
}

/** ISO 8601 duration for whole minutes, as the task schema wants: PT30M, PT6H, P2D, P1DT6H. */
export function isoDuration(minutes: number): string {
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const time = `${h ? `${h}H` : ''}${m ? `${m}M` : ''}`;
  return `P${d ? `${d}D` : ''}${time ? `T${time}` : ''}`;
}

function triggerLines(job: Job): string[] {
  // A fixed date in the past: only its time of day matters (2024-01-07 is a Sunday).
  const start = `<StartBoundary>2024-01-07T${CALENDAR_CLOCK}:00</StartBoundary>`;
  const e = job.every;
  if (e.kind === 'daily' || e.kind === 'weekly' || e.minutes % 1440 === 0) {
    const schedule =
      e.kind === 'weekly'
        ? ['<ScheduleByWeek>', '  <WeeksInterval>1</WeeksInterval>', '  <DaysOfWeek><Sunday /></DaysOfWeek>', '</ScheduleByWeek>']
        : ['<ScheduleByDay>', `  <DaysInterval>${e.kind === 'interval' ? e.minutes / 1440 : 1}</DaysInterval>`, '</ScheduleByDay>'];
    return ['<CalendarTrigger>', `  ${start}`, ...schedule.map((l) => `  ${l}`), '</CalendarTrigger>'];
  }
  return [
    '<TimeTrigger>',
    `  ${start}`,
    `  <Repetition><Interval>${isoDuration(e.minutes)}</Interval></Repetition>`,
    '</TimeTrigger>',
  ];
}

/** Task Scheduler expands %VAR% in Command and Arguments and has no escape for a literal %. */
function assertNoPercent(job: Job): void {
  for (const p of [job.node, job.cli, job.storeDir]) {
    if (p.includes('%')) {
      throw new PycstoreError('ESCHEDULE', `Task Scheduler would expand the "%" in ${p}`, {
        hint: 'use a --store path (and a Node / pycstore install) without "%"',
      });
    }
  }
}

export function taskXml(job: Job): string {
  assertNoPercent(job);
  const actions = jobCommands(job).flatMap(([command, ...args]) => [
    '    <Exec>',
    // Quoted when it has a space (Program Files); installers' task XML does the same.
    `      <Command>${xmlText(windowsQuoteArg(command!))}</Command>`,
    `      <Arguments>${xmlText(args.map(windowsQuoteArg).join(' '))}</Arguments>`,
    '    </Exec>',
  ]);
  return [
    '<?xml version="1.0" encoding="UTF-16"?>',
    '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">',
    '  <RegistrationInfo>',
    `    <Description>${xmlText(`${metaLine(job)}; store: ${job.storeDir}; written by pycstore schedule install; undo: pycstore schedule remove`)}</Description>`,
    `    <URI>\\${taskName(job)}</URI>`,
    '  </RegistrationInfo>',
    '  <Triggers>',
    ...triggerLines(job).map((l) => `    ${l}`),
    '  </Triggers>',
    '  <Principals>',
    '    <Principal id="Author">',
    '      <LogonType>InteractiveToken</LogonType>',
    '      <RunLevel>LeastPrivilege</RunLevel>',
    '    </Principal>',
    '  </Principals>',
    '  <Settings>',
    '    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>',
    '    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>',
    '    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>',
    '    <StartWhenAvailable>true</StartWhenAvailable>',
    '    <ExecutionTimeLimit>PT4H</ExecutionTimeLimit>',
    '    <Priority>7</Priority>',
    '  </Settings>',
    '  <Actions Context="Author">',
    ...actions,
    '  </Actions>',
    '</Task>',
    '',
  ].join('\r\n');
}

/** The bytes schtasks accepts: UTF-16LE with a byte-order mark (it refuses UTF-8 with this declaration). */
export function taskXmlBytes(xml: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, 'utf16le')]);
}
