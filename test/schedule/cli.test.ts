/**
 * The built CLI (dist/cli.js, from `npm run build`): --help teaches install
 * and undo, --json prints exactly one object, and a real install/show/remove
 * as a throwaway user against that user's real crontab, scheduling this
 * Node and this dist/cli.js by absolute path.
 */
import { chownSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { available, isRoot, REQUIRE } from '../helpers/require.js';
import { execFile } from '../../src/schedule/system.js';
import { ensureCron, makeUser, tempDir } from './helpers.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
// vitest's globalSetup builds dist/ when it is stale (test/setup/build.ts): it is always there.
if (!existsSync(CLI) || !existsSync(path.join(path.dirname(CLI), 'commands', 'schedule.js'))) throw new Error(`${CLI} is not built`);

const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) => execFile([process.execPath, CLI, ...args], { env });

describe('pycstore schedule, built CLI', () => {
  it('--help says what it does and how to undo it', async () => {
    const r = await cli(['schedule', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: pycstore schedule install\|remove\|show/);
    expect(r.stdout).toMatch(/remove {3}undoes exactly what install wrote/);
    expect(r.stdout).toContain('pycstore schedule remove ');
    expect(r.stdout).toContain('--every WHEN');
    expect((await cli(['--help'])).stdout).toMatch(/schedule +Run gc/);
  });

  it('--json prints one object, for results and for usage errors (exit 2)', async () => {
    const store = tempDir();
    const ok = await cli(['--store', store, 'schedule', 'install', '--dry-run', '--json', '--every', '30m']);
    expect(ok.code).toBe(0);
    const obj = JSON.parse(ok.stdout) as Record<string, unknown>;
    expect(obj).toMatchObject({ action: 'install', every: '30m', dedup: true, dryRun: true, wrote: [] }); // dedup + gc by default
    expect(ok.stdout.trim().split('\n')).toHaveLength(1);
    const bad = await cli(['--store', store, 'schedule', 'install', '--json', '--every', '7m']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({ error: { code: 'EUSAGE' } });
  });
});

const cron = await ensureCron();
const hasCron = available(REQUIRE.cron, 'the CLI real-crontab test', !cron.ok ? cron.why : !isRoot ? 'needs root (useradd, crontab -u)' : undefined);

describe.skipIf(!hasCron)('pycstore schedule, built CLI, as a throwaway user', () => {
  let user: Awaited<ReturnType<typeof makeUser>>;
  beforeAll(async () => {
    user = await makeUser();
  });
  afterAll(async () => {
    await user?.remove();
  });

  it('install, show, remove: the crontab line runs this node and this cli.js by absolute path; nothing left after', async () => {
    const store = path.join(tempDir(), 'the store');
    mkdirSync(store);
    chownSync(store, user.uid, -1);
    const env = { PATH: '/usr/bin:/bin', HOME: '/nonexistent' };
    const as = (args: string[]) => execFile(['runuser', '-u', user.name, '--', 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, CLI, '--store', store, ...args]);

    const inst = await as(['schedule', 'install', '--every', '12h', '--dedup', '--json']);
    expect(inst.code, inst.stderr).toBe(0);
    expect(JSON.parse(inst.stdout)).toMatchObject({ action: 'install', backend: 'cron', every: '12h', dedup: true, wrote: ['crontab'], removed: [] });
    const tab = (await execFile(['crontab', '-u', user.name, '-l'])).stdout;
    expect(tab).toContain(`0 */12 * * * { date; ${process.execPath} ${CLI} dedup --store '${store}'; ${process.execPath} ${CLI} gc --store '${store}'; } >>'${store}/schedule.log' 2>&1\n`);

    const show = await as(['schedule', 'show', '--json']);
    expect(JSON.parse(show.stdout)).toMatchObject({ backend: 'cron', installed: true, every: '12h', dedup: true, log: `${store}/schedule.log` });

    const human = await as(['schedule', 'show']);
    expect(human.stdout).toContain(`Store ${store}: pycstore dedup + gc every 12h, via cron`);

    const rm = await as(['schedule', 'remove', '--json']);
    expect(JSON.parse(rm.stdout)).toMatchObject({ action: 'remove', backend: 'cron', every: '12h', dedup: true, wrote: [], removed: ['crontab'] });
    expect((await execFile(['crontab', '-u', user.name, '-l'])).stderr).toMatch(/no crontab/);
  });
});
