/**
 * The Task Scheduler backend, which can't run here: the exact task XML, the
 * UTF-16LE bytes schtasks wants, the XML parsed back by a real XML parser
 * (Python's ElementTree), argument quoting compared with Python's
 * subprocess.list2cmdline (the MS C runtime rules), and install/show/remove
 * with schtasks faked.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { available, REQUIRE } from '../helpers/require.js';
import { runSchedule } from '../../src/commands/schedule.js';
import type { PycstoreError } from '../../src/errors.js';
import { parseEvery } from '../../src/schedule/every.js';
import { makeJob, makeTarget } from '../../src/schedule/job.js';
import { windowsQuoteArg } from '../../src/schedule/quote.js';
import { execFile } from '../../src/schedule/system.js';
import { isoDuration, taskName, taskXml, taskXmlBytes } from '../../src/schedule/windows.js';
import { fail, makeCtx, makeSys, ok, tempDir } from './helpers.js';

const NODE = 'C:\\Program Files\\nodejs\\node.exe';
const CLI = 'C:\\Users\\Ann Lee\\AppData\\Roaming\\npm\\node_modules\\pycstore\\dist\\cli.js';
const job = (store: string, every = 'daily', dedup = false) => makeJob(makeTarget(store), { every: parseEvery(every), dedup, node: NODE, cli: CLI });

describe('task XML text', () => {
  it('is exact for daily gc', () => {
    const j = job('C:\\pyc');
    expect(taskXml(j)).toBe(
      [
        '<?xml version="1.0" encoding="UTF-16"?>',
        '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">',
        '  <RegistrationInfo>',
        '    <Description>pycstore-schedule every=daily dedup=no; store: C:\\pyc; written by pycstore schedule install; undo: pycstore schedule remove</Description>',
        `    <URI>\\pycstore-gc-${j.id}</URI>`,
        '  </RegistrationInfo>',
        '  <Triggers>',
        '    <CalendarTrigger>',
        '      <StartBoundary>2024-01-07T03:30:00</StartBoundary>',
        '      <ScheduleByDay>',
        '        <DaysInterval>1</DaysInterval>',
        '      </ScheduleByDay>',
        '    </CalendarTrigger>',
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
        '    <Exec>',
        '      <Command>"C:\\Program Files\\nodejs\\node.exe"</Command>',
        '      <Arguments>"C:\\Users\\Ann Lee\\AppData\\Roaming\\npm\\node_modules\\pycstore\\dist\\cli.js" gc --store C:\\pyc</Arguments>',
        '    </Exec>',
        '  </Actions>',
        '</Task>',
        '',
      ].join('\r\n'),
    );
  });

  it('maps weekly, whole days and other intervals to the right trigger', () => {
    expect(taskXml(job('C:\\pyc', 'weekly'))).toContain('<ScheduleByWeek>\r\n        <WeeksInterval>1</WeeksInterval>\r\n        <DaysOfWeek><Sunday /></DaysOfWeek>');
    expect(taskXml(job('C:\\pyc', '3d'))).toContain('<DaysInterval>3</DaysInterval>');
    expect(taskXml(job('C:\\pyc', '90m'))).toContain('<TimeTrigger>\r\n      <StartBoundary>2024-01-07T03:30:00</StartBoundary>\r\n      <Repetition><Interval>PT1H30M</Interval></Repetition>');
    expect(['15m', '6h', '1d', '25h', '31d'].map((e) => isoDuration((parseEvery(e) as { minutes: number }).minutes))).toEqual([
      'PT15M',
      'PT6H',
      'P1D',
      'P1DT1H',
      'P31D',
    ]);
  });

  it('refuses % in a path (Task Scheduler expands %VAR% and has no escape)', () => {
    try {
      taskXml(job('C:\\50%\\pyc'));
      expect.unreachable();
    } catch (err) {
      expect((err as PycstoreError).code).toBe('ESCHEDULE');
    }
  });

  it('is written as UTF-16LE with a byte-order mark', () => {
    const bytes = taskXmlBytes('<a>é</a>');
    expect([...bytes.subarray(0, 4)]).toEqual([0xff, 0xfe, 0x3c, 0x00]);
    expect(bytes.subarray(2).toString('utf16le')).toBe('<a>é</a>');
  });
});

const py = await execFile(['python3', '-c', 'import xml.etree.ElementTree, subprocess']);
const hasPy = available(REQUIRE.python3, 'the task XML parse-back', py.code !== 0 ? 'python3 with xml.etree.ElementTree, subprocess is not available' : undefined);

describe.skipIf(!hasPy)('task XML parsed back by ElementTree', () => {
  it('is well-formed UTF-16 and keeps odd paths intact', async () => {
    const dir = tempDir();
    const store = 'C:\\Users\\A & B <x>\\"quoted" pyc\\';
    const j = job(store, '6h', true);
    const file = path.join(dir, 'task.xml');
    writeFileSync(file, taskXmlBytes(taskXml(j)));
    const script = [
      'import json, sys, xml.etree.ElementTree as ET',
      "ns = {'t': 'http://schemas.microsoft.com/windows/2004/02/mit/task'}",
      'root = ET.parse(sys.argv[1]).getroot()',
      "print(json.dumps({'tag': root.tag,",
      "  'uri': root.find('t:RegistrationInfo/t:URI', ns).text,",
      "  'desc': root.find('t:RegistrationInfo/t:Description', ns).text,",
      "  'interval': root.find('t:Triggers/t:TimeTrigger/t:Repetition/t:Interval', ns).text,",
      "  'exec': [[e.find('t:Command', ns).text, e.find('t:Arguments', ns).text] for e in root.findall('t:Actions/t:Exec', ns)]}))",
    ].join('\n');
    const r = await execFile(['python3', '-c', script, file]);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { tag: string; uri: string; desc: string; interval: string; exec: string[][] };
    expect(got.tag).toBe('{http://schemas.microsoft.com/windows/2004/02/mit/task}Task');
    expect(got.uri).toBe(`\\${taskName(j)}`);
    expect(got.desc).toContain(`store: ${store};`);
    expect(got.interval).toBe('PT6H');
    const args = (cmd: string) => [CLI, cmd, '--store', store].map(windowsQuoteArg).join(' ');
    expect(got.exec).toEqual([
      [`"${NODE}"`, args('dedup')],
      [`"${NODE}"`, args('gc')],
    ]);
  });

  it('quotes arguments with spaces as Python’s list2cmdline (MS C runtime rules) does', async () => {
    const cases = ['C:\\Program Files\\x', 'C:\\with space\\', 'a\\\\b c', 'tab\there', 'ends with \\\\', 'x "y" z', 'a\\"b c'];
    const r = await execFile(['python3', '-c', 'import json,subprocess,sys; print(json.dumps([subprocess.list2cmdline([a]) for a in json.loads(sys.argv[1])]))', JSON.stringify(cases)]);
    expect(r.code, r.stderr).toBe(0);
    expect(cases.map(windowsQuoteArg)).toEqual(JSON.parse(r.stdout));
  });
});

describe('install / show / remove with schtasks faked', () => {
  it('creates the task from a UTF-16 XML file it then deletes; show queries; remove deletes the task', async () => {
    const tmp = tempDir();
    const store = path.join(tmp, 'store');
    mkdirSync(store);
    const t = makeTarget(store);
    let created: Buffer | undefined;
    let exists = false;
    const sys = makeSys({
      platform: 'win32',
      home: tmp,
      tmpDir: tmp,
      cli: path.join(tmp, 'cli.js'),
      fake: (argv) => {
        if (argv[0] !== 'schtasks') return undefined;
        if (argv[1] === '/Create') {
          created = readFileSync(argv[argv.indexOf('/XML') + 1]!);
          exists = true;
          return ok('SUCCESS');
        }
        if (argv[1] === '/Query') return exists ? ok(created!.subarray(2).toString('utf16le')) : fail('ERROR: The system cannot find the file specified.');
        if (argv[1] === '/Delete') {
          exists = false;
          return ok('SUCCESS');
        }
        return undefined;
      },
    });
    writeFileSync(sys.cli, '');
    const ctx = makeCtx(store);
    const name = taskName(t);

    const r = await runSchedule({ every: '12h', dedup: true }, ['install'], ctx, sys);
    expect(r.json).toMatchObject({ action: 'install', backend: 'schtasks', every: '12h', dedup: true, wrote: [`Task Scheduler task ${name}`] });
    const xmlFile = path.join(tmp, `${name}.xml`);
    expect(sys.calls).toContainEqual(['schtasks', '/Create', '/TN', name, '/XML', xmlFile, '/F']);
    expect(existsSync(xmlFile)).toBe(false);
    expect(created!.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xfe]));
    const j = makeJob(t, { every: parseEvery('12h'), dedup: true, node: sys.node, cli: sys.cli });
    expect(created!.subarray(2).toString('utf16le')).toBe(taskXml(j));

    const shown = await runSchedule({}, ['show'], ctx, sys);
    expect(shown.json).toMatchObject({ backend: 'schtasks', installed: true, every: '12h', dedup: true });

    const removed = await runSchedule({}, ['remove'], ctx, sys);
    expect(removed.json).toMatchObject({ action: 'remove', every: '12h', dedup: true, removed: [`Task Scheduler task ${name}`] });
    expect(sys.calls.at(-1)).toEqual(['schtasks', '/Delete', '/TN', name, '/F']);
    expect((await runSchedule({}, ['show'], ctx, sys)).json['installed']).toBe(false);
  });
});
