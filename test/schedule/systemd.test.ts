/**
 * The systemd backend: the exact unit text, `systemd-analyze verify --user`
 * on it (when systemd-analyze is installed), and install/show/remove into a
 * temp HOME with systemctl faked (no user manager runs here).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { available, REQUIRE } from '../helpers/require.js';
import { runSchedule } from '../../src/commands/schedule.js';
import { parseEvery } from '../../src/schedule/every.js';
import { makeJob, makeTarget } from '../../src/schedule/job.js';
import { systemdPaths, systemdTimespan, systemdUnits } from '../../src/schedule/systemd.js';
import { execFile } from '../../src/schedule/system.js';
import { fail, fakeCli, makeCtx, makeSys, ok, tempDir } from './helpers.js';

const job = (store: string, every = 'daily', dedup = false, node = '/usr/bin/node', cli = '/opt/pycstore/dist/cli.js') =>
  makeJob(makeTarget(store), { every: parseEvery(every), dedup, node, cli });

describe('unit text', () => {
  it('is exact for daily gc of a plain store', () => {
    const j = job('/srv/pyc');
    expect(j.id).toBe('28640ab4e30d');
    const { service, timer } = systemdUnits(j);
    expect(service).toBe(
      [
        '# pycstore-schedule every=daily dedup=no',
        '# Written by pycstore schedule install for the store /srv/pyc.',
        '# Undo: pycstore schedule remove --store /srv/pyc',
        '[Unit]',
        'Description=pycstore gc (store 28640ab4e30d)',
        '',
        '[Service]',
        'Type=oneshot',
        'ExecStart=/usr/bin/node /opt/pycstore/dist/cli.js gc --store /srv/pyc',
        'Nice=10',
        'IOSchedulingClass=idle',
        '',
      ].join('\n'),
    );
    expect(timer).toBe(
      [
        '# pycstore-schedule every=daily dedup=no',
        '# Written by pycstore schedule install for the store /srv/pyc.',
        '# Undo: pycstore schedule remove --store /srv/pyc',
        '[Unit]',
        'Description=pycstore gc daily at 03:30 (store 28640ab4e30d)',
        '',
        '[Timer]',
        'OnCalendar=*-*-* 03:30:00',
        'Persistent=true',
        '',
        '[Install]',
        'WantedBy=timers.target',
        '',
      ].join('\n'),
    );
  });

  it('quotes odd paths for ExecStart and lets gc run after a failed dedup', () => {
    const { service } = systemdUnits(job("/srv/my pyc 50%/it's \"$HOME\"\\", '6h', true));
    expect(service).toContain(`ExecStart=-/usr/bin/node /opt/pycstore/dist/cli.js dedup --store "/srv/my pyc 50%%/it's \\"$$HOME\\"\\\\"\n`);
    expect(service).toContain(`ExecStart=/usr/bin/node /opt/pycstore/dist/cli.js gc --store "/srv/my pyc 50%%/it's \\"$$HOME\\"\\\\"\n`);
    // The comment lines quote the path for a shell, so none ends in a backslash (a line continuation).
    for (const l of service.split('\n')) expect(l.endsWith('\\')).toBe(false);
  });

  it('uses OnCalendar for weekly and OnBootSec/OnUnitActiveSec for intervals', () => {
    expect(systemdUnits(job('/s', 'weekly')).timer).toContain('OnCalendar=Sun *-*-* 03:30:00\nPersistent=true\n');
    const t = systemdUnits(job('/s', '90m')).timer;
    expect(t).toContain('OnBootSec=90min\nOnUnitActiveSec=90min\n');
    expect(t).not.toContain('Persistent');
    expect(['15m', '6h', '2d', '1w', '25h'].map((e) => systemdTimespan((parseEvery(e) as { minutes: number }).minutes))).toEqual([
      '15min',
      '6h',
      '2d',
      '1w',
      '25h',
    ]);
  });
});

const analyze = await execFile(['systemd-analyze', '--version']);
const hasAnalyze = available(REQUIRE.systemd, 'systemd-analyze verify', analyze.code !== 0 ? 'systemd-analyze is not installed (Debian package: systemd)' : undefined);

describe.skipIf(!hasAnalyze)('systemd-analyze verify --user', () => {
  async function verify(units: { service: string; timer: string }, name: string): Promise<{ code: number | null; out: string }> {
    const dir = tempDir();
    const runtime = path.join(dir, 'runtime');
    mkdirSync(runtime, { mode: 0o700 });
    writeFileSync(path.join(dir, `${name}.service`), units.service);
    writeFileSync(path.join(dir, `${name}.timer`), units.timer);
    // --user needs a runtime dir; none exists without a user session, so give it a temp one.
    const r = await execFile(['systemd-analyze', 'verify', '--user', '--man=no', path.join(dir, `${name}.timer`), path.join(dir, `${name}.service`)], {
      env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_COLOR: '0' },
    });
    return { code: r.code, out: r.stderr + r.stdout };
  }

  it('passes, with no message, for each interval kind and odd paths', async () => {
    const dir = tempDir();
    const cli = fakeCli(dir);
    for (const [store, every, dedup] of [
      ['/srv/pyc', 'daily', false],
      ['/srv/pyc', 'weekly', true],
      ["/srv/my pyc 50%/it's \"$HOME\"\\", '6h', true],
      ['/srv/x', '90m', false],
      ['/srv/y', '31d', true],
    ] as const) {
      const j = job(store, every, dedup, process.execPath, cli);
      const r = await verify(systemdUnits(j), `pycstore-gc-${j.id}`);
      expect(r, `${store} ${every}`).toEqual({ code: 0, out: '' });
    }
  });

  it('does catch a broken unit (the check is real)', async () => {
    const units = systemdUnits(job('/srv/pyc', 'daily', false, process.execPath));
    const bad = { ...units, timer: units.timer.replace('OnCalendar=*-*-* 03:30:00', 'OnCalendar=every day-ish') };
    expect((await verify(bad, 'pycstore-gc-bad')).code).not.toBe(0);
  });
});

describe('install / show / remove into a temp HOME, systemctl faked', () => {
  function setup(manager: boolean) {
    const home = tempDir();
    const store = path.join(home, 'store dir');
    mkdirSync(store);
    const runtime = path.join(home, 'run');
    const sys = makeSys({
      home,
      cli: fakeCli(home),
      env: { XDG_RUNTIME_DIR: runtime },
      // /run/systemd/system exists and (when `manager`) the user manager's socket does.
      pathExists: async (p) => p === '/run/systemd/system' || (manager && p === path.join(runtime, 'systemd', 'private')),
      fake: (argv) => {
        if (argv[0] !== 'systemctl') return undefined;
        if (argv.includes('is-system-running')) return manager ? ok('running\n') : fail('Failed to connect to bus');
        if (argv.includes('list-timers')) return ok('NEXT  LEFT  LAST  PASSED  UNIT  ACTIVATES\n');
        return manager ? ok() : fail('Failed to connect to bus');
      },
    });
    return { home, store, sys, ctx: makeCtx(store) };
  }
  const tree = (dir: string): string[] =>
    existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort() : [];

  it('with a user manager: writes both units, reloads, enables, restarts; remove undoes exactly that', async () => {
    const { home, store, sys, ctx } = setup(true);
    const r = await runSchedule({ every: '6h', dedup: true }, ['install'], ctx, sys);
    expect(r.json['backend']).toBe('systemd');
    const t = makeTarget(store);
    const p = systemdPaths(t, {}, home);
    expect(r.json).toMatchObject({ action: 'install', every: '6h', dedup: true, wrote: [p.service, p.timer], removed: [] });
    expect(p.unitDir).toBe(path.join(home, '.config/systemd/user'));
    const j = makeJob(t, { every: parseEvery('6h'), dedup: true, node: sys.node, cli: sys.cli });
    expect(readFileSync(p.service, 'utf8')).toBe(systemdUnits(j).service);
    expect(readFileSync(p.timer, 'utf8')).toBe(systemdUnits(j).timer);
    const name = `pycstore-gc-${t.id}.timer`;
    expect(sys.calls.filter((c) => c[0] === 'systemctl' && !c.includes('is-system-running'))).toEqual([
      ['systemctl', '--user', 'daemon-reload'],
      ['systemctl', '--user', 'enable', name],
      ['systemctl', '--user', 'restart', name],
    ]);

    const shown = await runSchedule({}, ['show'], ctx, sys);
    expect(shown.json).toMatchObject({ backend: 'systemd', installed: true, every: '6h', dedup: true, status: expect.stringContaining('NEXT') });
    expect(shown.human.join('\n')).toContain(`journalctl --user -u pycstore-gc-${t.id}.service`);

    // What `systemctl enable` and a Persistent= timer leave: the wants link and the stamp.
    mkdirSync(path.dirname(p.wantsLink), { recursive: true });
    symlinkSync(p.timer, p.wantsLink);
    mkdirSync(path.dirname(p.stamp), { recursive: true });
    writeFileSync(p.stamp, '');
    sys.calls.length = 0;
    const removed = await runSchedule({}, ['remove'], ctx, sys);
    expect(removed.json).toMatchObject({ action: 'remove', every: '6h', dedup: true, removed: [p.wantsLink, p.timer, p.service, p.stamp] });
    expect(sys.calls.filter((c) => c[0] === 'systemctl' && !c.includes('is-system-running'))).toEqual([
      ['systemctl', '--user', 'disable', '--now', name],
      ['systemctl', '--user', 'daemon-reload'],
    ]);
    expect(tree(path.join(home, '.config'))).toEqual(['systemd', 'systemd/user', 'systemd/user/timers.target.wants']);
    expect(tree(path.join(home, '.local/share/systemd/timers'))).toEqual([]);
  });

  it('honours XDG_CONFIG_HOME', async () => {
    const { home, store, sys, ctx } = setup(true);
    const cfg = path.join(home, 'cfg');
    const s2 = { ...sys, env: { ...sys.env, XDG_CONFIG_HOME: cfg } };
    await runSchedule({}, ['install'], ctx, s2);
    expect(tree(cfg)).toEqual(['systemd', 'systemd/user', `systemd/user/pycstore-gc-${makeTarget(store).id}.service`, `systemd/user/pycstore-gc-${makeTarget(store).id}.timer`]);
  });

  it('removes the temp file a killed install left beside a unit (its pid gone); keeps a live one', async () => {
    const { home, store, sys, ctx } = setup(true);
    const p = systemdPaths(makeTarget(store), {}, home);
    mkdirSync(path.dirname(p.service), { recursive: true });
    const dead = spawnSync('true').pid!; // a pid that has exited
    writeFileSync(`${p.service}.tmp-${dead}`, 'half a unit');
    writeFileSync(`${p.timer}.tmp-1`, 'being written by a live process (pid 1 is always alive)');
    await runSchedule({}, ['install'], ctx, sys);
    expect(existsSync(`${p.service}.tmp-${dead}`)).toBe(false);
    expect(existsSync(`${p.timer}.tmp-1`)).toBe(true);
    expect(existsSync(p.service) && existsSync(p.timer)).toBe(true);
  });

  it('without a user manager (--backend systemd here): writes the units, says how to enable them, runs no systemctl', async () => {
    const { home, sys, ctx } = setup(false);
    const r = await runSchedule({ backend: 'systemd' }, ['install'], ctx, sys);
    expect(r.json['wrote']).toHaveLength(2);
    expect(r.human.join('\n')).toMatch(/systemctl --user daemon-reload && systemctl --user enable --now pycstore-gc-\w+\.timer/);
    expect(sys.calls.filter((c) => c[0] === 'systemctl' && !c.includes('is-system-running'))).toEqual([]);
    const removed = await runSchedule({ backend: 'systemd' }, ['remove'], ctx, sys);
    expect(removed.json['removed']).toHaveLength(2);
    expect(tree(path.join(home, '.config/systemd/user'))).toEqual([]);
  });

  it('--dry-run writes nothing and runs nothing but the probes', async () => {
    const { home, sys, ctx } = setup(true);
    const r = await runSchedule({ 'dry-run': true }, ['install'], ctx, sys);
    expect(r.json).toMatchObject({ dryRun: true, wrote: [] });
    expect((r.json['steps'] as unknown[]).length).toBe(5);
    expect(existsSync(path.join(home, '.config'))).toBe(false);
    expect(sys.calls.every((c) => c.includes('is-system-running'))).toBe(true);
  });
});
