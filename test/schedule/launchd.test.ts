/**
 * The launchd backend, which can't run here: the exact plist, parsed back by
 * a real plist parser (Python's plistlib), its /bin/sh script run for real
 * with a stand-in cli.js, and install/show/remove with launchctl faked.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { available, REQUIRE } from '../helpers/require.js';
import { runSchedule } from '../../src/commands/schedule.js';
import { parseEvery } from '../../src/schedule/every.js';
import { makeJob, makeTarget } from '../../src/schedule/job.js';
import { launchdPlist, launchdPlistPath } from '../../src/schedule/launchd.js';
import { execFile } from '../../src/schedule/system.js';
import { fail, fakeCli, makeCtx, makeSys, ok, tempDir } from './helpers.js';

const job = (store: string, every = 'daily', dedup = false, node = '/usr/local/bin/node', cli = '/opt/pycstore/dist/cli.js') =>
  makeJob(makeTarget(store), { every: parseEvery(every), dedup, node, cli });

describe('plist text', () => {
  it('is exact for daily gc of a plain store', () => {
    expect(launchdPlist(job('/Users/ann/pyc'))).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
        '<!-- pycstore-schedule every=daily dedup=no; written by pycstore schedule install; undo: pycstore schedule remove -->',
        '<plist version="1.0">',
        '<dict>',
        '  <key>Label</key>',
        `  <string>pycstore.gc.${makeTarget('/Users/ann/pyc').id}</string>`,
        '  <key>ProgramArguments</key>',
        '  <array>',
        '    <string>/bin/sh</string>',
        '    <string>-c</string>',
        '    <string>date; /usr/local/bin/node /opt/pycstore/dist/cli.js gc --store /Users/ann/pyc</string>',
        '  </array>',
        '  <key>StartCalendarInterval</key>',
        '  <dict>',
        '    <key>Hour</key>',
        '    <integer>3</integer>',
        '    <key>Minute</key>',
        '    <integer>30</integer>',
        '  </dict>',
        '  <key>StandardOutPath</key>',
        '  <string>/Users/ann/pyc/schedule.log</string>',
        '  <key>StandardErrorPath</key>',
        '  <string>/Users/ann/pyc/schedule.log</string>',
        '  <key>ProcessType</key>',
        '  <string>Background</string>',
        '  <key>LowPriorityIO</key>',
        '  <true/>',
        '  <key>Nice</key>',
        '  <integer>10</integer>',
        '</dict>',
        '</plist>',
        '',
      ].join('\n'),
    );
  });

  it('weekly adds Weekday 0; an interval is StartInterval in seconds', () => {
    expect(launchdPlist(job('/s', 'weekly'))).toContain('<key>Weekday</key>\n    <integer>0</integer>\n    <key>Hour</key>');
    expect(launchdPlist(job('/s', '6h'))).toContain('<key>StartInterval</key>\n  <integer>21600</integer>');
  });
});

const py = await execFile(['python3', '-c', 'import plistlib']);
const hasPy = available(REQUIRE.python3, 'the plist parse-back', py.code !== 0 ? 'python3 with plistlib is not available' : undefined);

describe.skipIf(!hasPy)('plist parsed back by plistlib, script run by /bin/sh', () => {
  it('is well-formed, keeps every odd path intact, and its script calls dedup then gc with the exact store', async () => {
    const dir = tempDir();
    const store = path.join(dir, `my <pyc> & "50%" it's $HOME \\`);
    mkdirSync(store);
    const j = job(store, '6h', true, process.execPath, fakeCli(dir));
    const file = path.join(dir, 'agent.plist');
    writeFileSync(file, launchdPlist(j));
    const r = await execFile(['python3', '-c', 'import json,plistlib,sys; print(json.dumps(plistlib.load(open(sys.argv[1],"rb"))))', file]);
    expect(r.code, r.stderr).toBe(0);
    const plist = JSON.parse(r.stdout) as { ProgramArguments: string[]; StartInterval: number; StandardOutPath: string; Label: string };
    expect(plist.Label).toBe(`pycstore.gc.${j.id}`);
    expect(plist.StartInterval).toBe(21600);
    expect(plist.StandardOutPath).toBe(path.join(store, 'schedule.log'));
    expect(plist.ProgramArguments.slice(0, 2)).toEqual(['/bin/sh', '-c']);

    const run = await execFile(plist.ProgramArguments, { env: { PATH: '/usr/bin:/bin' } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/fake pycstore dedup\nfake pycstore gc\n$/);
    const calls = readFileSync(path.join(store, 'calls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);
    expect(calls).toEqual([
      ['dedup', '--store', store],
      ['gc', '--store', store],
    ]);
  });
});

describe('install / show / remove with launchctl faked', () => {
  it('writes the plist, bootstraps it, re-install boots out first; remove boots out and deletes', async () => {
    const home = tempDir();
    const store = path.join(home, 'store');
    mkdirSync(store);
    const sys = makeSys({
      platform: 'darwin',
      home,
      uid: 501,
      cli: fakeCli(home),
      fake: (argv) => (argv[0] === 'launchctl' ? (argv[1] === 'print' ? fail('Could not find service') : ok()) : undefined),
    });
    const ctx = makeCtx(store);
    const t = makeTarget(store);
    const plistPath = launchdPlistPath(t, home);
    expect(plistPath).toBe(path.join(home, 'Library/LaunchAgents', `pycstore.gc.${t.id}.plist`));

    const r = await runSchedule({ every: 'weekly', 'gc-only': true }, ['install'], ctx, sys);
    expect(r.json).toMatchObject({ action: 'install', backend: 'launchd', every: 'weekly', dedup: false, wrote: [plistPath], log: path.join(store, 'schedule.log') });
    expect(readFileSync(plistPath, 'utf8')).toBe(launchdPlist(makeJob(t, { every: parseEvery('weekly'), dedup: false, node: sys.node, cli: sys.cli })));
    expect(sys.calls).toEqual([['launchctl', 'bootstrap', 'gui/501', plistPath]]);

    sys.calls.length = 0;
    await runSchedule({ every: 'daily' }, ['install'], ctx, sys);
    expect(sys.calls).toEqual([
      ['launchctl', 'bootout', `gui/501/pycstore.gc.${t.id}`],
      ['launchctl', 'bootstrap', 'gui/501', plistPath],
    ]);

    const shown = await runSchedule({}, ['show'], ctx, sys);
    expect(shown.json).toMatchObject({ backend: 'launchd', installed: true, every: 'daily', dedup: true, status: expect.stringMatching(/not loaded/) });

    sys.calls.length = 0;
    const removed = await runSchedule({}, ['remove'], ctx, sys);
    expect(removed.json).toMatchObject({ action: 'remove', every: 'daily', removed: [plistPath] });
    expect(sys.calls).toEqual([['launchctl', 'bootout', `gui/501/pycstore.gc.${t.id}`]]);
    expect(existsSync(plistPath)).toBe(false);
  });
});
