/**
 * `pycstore schedule install|remove|show`: a periodic `pycstore gc` (with
 * `--dedup`, a bare `pycstore dedup` first: every environment found at that
 * run, plus the registered roots) through the machine's scheduler. This file
 * picks the backend (show and remove: whichever holds the schedule), reads
 * what is installed, has plan.ts decide, applies (unless --dry-run) and
 * reports, install with the environments the job covers (api/coverage.ts).
 * The generated text lives in src/schedule/{systemd,cron,launchd,windows}.ts.
 */
import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandModule, CommandResult, CommandSpec, Context, Values } from '../cli/command.js';
import { PycstoreError, usageError } from '../errors.js';
import { applyPlan, describeStep, inspect } from '../schedule/apply.js';
import { describeEvery, type Every, formatEvery, parseEvery } from '../schedule/every.js';
import { type Backend, BACKENDS, jobLabel, makeJob, makeTarget, type Target } from '../schedule/job.js';
import { CRONTAB, describeInstalled, type Entry, logWhere, type Plan, planInstall, planRemove, type Snapshot } from '../schedule/plan.js';
import { shQuote } from '../schedule/quote.js';
import { scheduledCoverage, type Coverage } from '../api/coverage.js';
import { describeKinds } from '../api/targets.js';
import { backendsFor, detectBackend, realSystem, type System } from '../schedule/system.js';
import { taskName } from '../schedule/windows.js';

const ACTIONS = ['install', 'remove', 'show'] as const;
type Action = (typeof ACTIONS)[number];

export const spec: CommandSpec = {
  name: 'schedule',
  summary: 'Run dedup and gc periodically via systemd, cron, launchd or Task Scheduler.',
  usage: 'pycstore schedule install|remove|show [--every daily|weekly|DURATION] [--gc-only] [options]',
  description: [
    'install  sets up a periodic `pycstore dedup` then `pycstore gc` for this store, so new',
    '         environments are shared and objects no venv uses any more are deleted without you',
    '         thinking of it (--gc-only: gc alone). Each dedup is',
    '         `pycstore dedup` with no PATH: it finds your environments anew every time (a new',
    "         project's .venv joins at the next run, gc drops deleted ones), plus the roots registered",
    '         in the store; install lists the environments that covers today, and those it cannot see',
    "         (found through variables of your shell, which schedulers don't pass). It prints what it",
    '         wrote and where; running it again replaces the schedule (for a new --every).',
    'remove   undoes exactly what install wrote for this store, and nothing else.',
    'show     tells what is installed for this store, whichever scheduler holds it: the files or',
    '         crontab lines, the interval, and where the runs log.',
    'show, remove and install --dry-run work where the scheduler is not installed (no cron).',
    '',
    'The scheduler is the one this machine uses: a systemd user timer when systemd runs your',
    'session (~/.config/systemd/user/pycstore-gc-ID.{service,timer}, logs in the journal), cron',
    'otherwise (a marked block in your crontab, log in DIR/schedule.log), a launchd agent on macOS',
    '(~/Library/LaunchAgents/pycstore.gc.ID.plist), Task Scheduler on Windows (task pycstore-gc-ID).',
    'The job runs this Node and this pycstore by absolute path with --store DIR, so it needs no',
    'PATH; after moving either, run install again. Each store has its own schedule (ID comes from',
    'the store path). daily is 03:30 local time, weekly is Sunday 03:30. More: docs/schedule.md.',
  ].join('\n'),
  options: {
    every: {
      type: 'string',
      arg: 'WHEN',
      help: 'install: daily, weekly, or a duration 15m..31d such as 30m, 6h, 2d. cron takes only what it repeats exactly.',
      default: 'daily',
    },
    dedup: { type: 'boolean', help: 'install: before each gc, run `pycstore dedup`: every environment found then, plus the registered roots (the default).' },
    'gc-only': { type: 'boolean', help: 'install: each run is gc alone; new environments are not deduplicated.' },
    backend: { type: 'string', arg: 'NAME', help: 'systemd, cron, launchd or schtasks instead of the detected one.' },
    'dry-run': { type: 'boolean', help: 'Print what would be written and run; change nothing.' },
  },
  examples: [
    'pycstore schedule install --dry-run       # show what would be written, change nothing',
    'pycstore schedule install                 # daily at 03:30: find and dedup your environments, then gc',
    'pycstore schedule install --every 6h      # the same every 6 hours',
    'pycstore schedule install --gc-only       # only delete unused objects (no dedup)',
    'pycstore schedule show                    # what is installed, and where it logs',
    'pycstore schedule remove                  # undo install',
    'pycstore --store /srv/pyc schedule install --backend cron   # another store, in the crontab',
  ],
  positionals: 'any',
};

/** pycstore's entry file next to this module once built: dist/commands/schedule.js → dist/cli.js. */
function entryFile(): string {
  return fileURLToPath(new URL('../cli.js', import.meta.url));
}

export const readOnly: CommandModule['readOnly'] = (values, positionals) => positionals[0] === 'show' || Boolean(values['dry-run']);

export async function run(values: Values, positionals: string[], ctx: Context): Promise<CommandResult> {
  return runSchedule(values, positionals, ctx, realSystem(ctx.env, entryFile()));
}

function parseAction(positionals: string[]): Action {
  const [action, ...extra] = positionals;
  if (action === undefined) throw usageError('schedule needs an action: install, remove or show', 'see: pycstore schedule --help');
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw usageError(`unknown schedule action "${action}"`, 'actions: install, remove, show (see: pycstore schedule --help)');
  }
  if (extra.length) throw usageError(`schedule ${action} takes no more arguments (got ${extra.join(' ')})`, 'see: pycstore schedule --help');
  return action as Action;
}

function parseBackend(value: unknown): Backend | undefined {
  if (value === undefined) return undefined;
  if (!(BACKENDS as readonly unknown[]).includes(value)) {
    throw usageError(`unknown --backend "${String(value)}"`, `backends: ${BACKENDS.join(', ')}`);
  }
  return value as Backend;
}

/** The store's real path; install needs the store to exist (the log goes in it, and gc of a typo is a mistake). */
async function resolveStore(storeDir: string, mustExist: boolean): Promise<string> {
  try {
    return await realpath(storeDir);
  } catch (err) {
    if (!mustExist) return storeDir;
    throw new PycstoreError('ESCHEDULE', `there is no store at ${storeDir}`, {
      hint: 'create it first with: pycstore dedup PATH (or name another with --store DIR)',
      cause: err,
    });
  }
}

/** The same command with this store (and backend, when given), for "undo:" and "check:" lines. */
function again(action: Action, target: Target, backend: Backend | undefined): string {
  return `pycstore schedule ${action} --store ${shQuote(target.storeDir)}${backend ? ` --backend ${backend}` : ''}`;
}

function indent(text: string): string[] {
  return text.replace(/\n$/, '').split('\n').map((l) => `    ${l}`);
}

function entryLines(entries: readonly Entry[], verb: string): string[] {
  return entries.flatMap((e) => [`  ${verb} ${e.where === CRONTAB ? 'the crontab of this user (crontab -l)' : e.where}:`, ...indent(e.text)]);
}

/** The steps for --json; a written file's content is in `entries` already (and may be bytes). */
function stepJson(plan: Plan): unknown[] {
  return plan.steps.map((s) => (s.op === 'write' ? { op: s.op, path: s.path } : s));
}

function everyText(every: Every | undefined): string {
  return every ? describeEvery(every) : 'at an interval it does not say';
}

/** What every action knows once the machine is read. */
interface Scene {
  readonly target: Target;
  readonly backend: Backend;
  /** Why this backend: detected (and why) or given. */
  readonly why: string;
  /** The --backend given, repeated in the commands we suggest. */
  readonly given: Backend | undefined;
  readonly snap: Snapshot;
  readonly log: string;
  readonly dryRun: boolean;
  /** The schedulers looked in (show, remove). */
  readonly searched: readonly Backend[];
}

/** The command, with the machine passed in (tests give a temp HOME, a throwaway crontab, a fake systemctl). */
export async function runSchedule(values: Values, positionals: string[], ctx: Context, sys: System): Promise<CommandResult> {
  const action = parseAction(positionals);
  const given = parseBackend(values['backend']);
  const dryRun = Boolean(values['dry-run']);
  if (action !== 'install' && (values['every'] !== undefined || values['dedup'] || values['gc-only'])) {
    throw usageError(`--every, --dedup and --gc-only are for install, not ${action}`, `see: pycstore schedule --help`);
  }
  if (values['dedup'] && values['gc-only']) throw usageError('--dedup and --gc-only contradict each other', 'dedup is the default; --gc-only turns it off');
  if (action === 'show' && dryRun) throw usageError('show changes nothing; --dry-run is for install and remove');
  // Read the arguments fully before looking at the machine.
  const every = action === 'install' ? parseEvery(typeof values['every'] === 'string' ? values['every'] : 'daily') : undefined;

  const target = makeTarget(await resolveStore(ctx.storeDir, action === 'install'));
  const scene = given
    ? await sceneOf(target, given, 'from --backend', given, action, dryRun, sys, false)
    : action === 'install'
      ? await detected(target, action, dryRun, sys)
      : await located(target, action, dryRun, sys);
  if (every !== undefined) return install(scene, every, !values['gc-only'], ctx, sys);
  return action === 'show' ? show(scene) : remove(scene, sys);
}

async function sceneOf(target: Target, backend: Backend, why: string, given: Backend | undefined, action: Action, dryRun: boolean, sys: System, managerAnswered: boolean): Promise<Scene> {
  // install --dry-run, show and remove work where the scheduler's command is missing: it holds nothing.
  const tolerateMissing = action !== 'install' || dryRun;
  const snap = await inspect(backend, target, sys, { withStatus: action === 'show', managerAnswered, tolerateMissing });
  return { target, backend, why, given, snap, log: logWhere(backend, target), dryRun, searched: [backend] };
}

/** install: the scheduler this machine uses. */
async function detected(target: Target, action: Action, dryRun: boolean, sys: System): Promise<Scene> {
  const { backend, why } = await detectBackend(sys);
  // detectBackend picks systemd only once the user manager has answered.
  return sceneOf(target, backend, why, undefined, action, dryRun, sys, backend === 'systemd');
}

/** show and remove: whichever scheduler holds this store's schedule (the detected one first); else the detected one. */
async function located(target: Target, action: Action, dryRun: boolean, sys: System): Promise<Scene> {
  const first = await detected(target, action, dryRun, sys);
  if (describeInstalled(target, first.snap).installed) return first;
  const others = backendsFor(sys.platform).filter((b) => b !== first.backend);
  for (const b of others) {
    const scene = await sceneOf(target, b, `it holds this store's schedule; this machine would use ${first.backend}: ${first.why}`, undefined, action, dryRun, sys, false);
    if (describeInstalled(target, scene.snap).installed) return scene;
  }
  return { ...first, searched: [first.backend, ...others] };
}

function show({ target, backend, why, given, snap, log, searched }: Scene): CommandResult {
  const store = target.storeDir;
  const inst = describeInstalled(target, snap);
  const json = {
    backend,
    installed: inst.installed,
    ...(inst.meta ? { every: formatEvery(inst.meta.every), dedup: inst.meta.dedup } : {}),
    entries: inst.entries,
    store,
    ...(inst.installed ? { log } : {}),
    ...(inst.status !== undefined ? { status: inst.status } : {}),
  };
  const human = inst.installed
    ? [
        `Store ${store}: pycstore ${jobLabel(inst.meta?.dedup ?? false)} ${everyText(inst.meta?.every)}, via ${backend} (${why}).`,
        ...entryLines(inst.entries, 'in'),
        ...(inst.status ? ['  status:', ...indent(inst.status)] : []),
        `  log: ${log}`,
        `Undo: ${again('remove', target, given)}`,
      ]
    : [
        searched.length > 1 ? `No schedule for store ${store} (looked in: ${searched.join(', ')}).` : `No ${backend} schedule for store ${store} (${why}).`,
        `Set one up: ${again('install', target, given)}${given ? '' : '   (or another scheduler: --backend NAME)'}`,
      ];
  return { exitCode: 0, json, human };
}

async function install(scene: Scene, every: Every, dedup: boolean, ctx: Context, sys: System): Promise<CommandResult> {
  const { target, backend, why, given, snap, log, dryRun } = scene;
  if (!existsSync(sys.cli)) {
    throw new PycstoreError('ESCHEDULE', `cannot find pycstore's entry file ${sys.cli} to schedule`, {
      hint: 'build pycstore first (npm run build), or install it (npm install -g pycstore)',
    });
  }
  const job = makeJob(target, { every, dedup, node: sys.node, cli: sys.cli });
  const plan = planInstall(job, snap, { taskFile: path.join(sys.tmpDir, `${taskName(target)}.xml`) });
  if (/[\\/]_npx[\\/]/.test(sys.cli)) {
    ctx.out.warn(`pycstore runs from npx's cache (${sys.cli}); the schedule breaks when that cache is cleaned. Install pycstore (npm install -g pycstore) and run install again.`);
  }
  if (!dryRun) {
    await applyPlan(plan, sys);
    if (backend === 'cron' && (await sys.cronDaemonRunning()) === false) {
      ctx.out.warn('no cron daemon is running, so the job will not run until one is: sudo systemctl enable --now cron (or: sudo service cron start)');
    }
  }
  const what = `pycstore ${jobLabel(dedup)} ${describeEvery(every)}`;
  const store = target.storeDir;
  const covers = dedup ? await scheduledCoverage({ storeDir: store, env: sys.env, home: sys.home, passesAll: backend === 'schtasks', out: ctx.out }) : undefined;
  const notes = [...plan.notes, ...missingNote(snap), ...(covers ? coverageLines(covers, sys.home) : [GC_ONLY])];
  const json = {
    action: 'install',
    backend,
    every: formatEvery(every),
    dedup,
    wrote: dryRun ? [] : plan.wrote,
    removed: [],
    store,
    log,
    entries: plan.entries,
    notes: [...plan.notes, ...missingNote(snap)],
    ...(covers ? { covers } : {}),
    ...(dryRun ? { dryRun: true, wouldWrite: plan.wrote, steps: stepJson(plan) } : {}),
  };
  const human = dryRun
    ? [
        `Dry run, nothing changed. Would schedule ${what} for store ${store} via ${backend} (${why}):`,
        ...plan.steps.map((s) => `  - ${describeStep(s)}`),
        ...entryLines(plan.entries, 'would write'),
        `  log: ${log}`,
        ...notes,
      ]
    : [
        `Scheduled ${what} for store ${store} via ${backend} (${why}).`,
        ...entryLines(plan.entries, 'wrote'),
        `  log: ${log}`,
        ...notes,
        `Check: ${again('show', target, given)}`,
        `Undo:  ${again('remove', target, given)}`,
      ];
  return { exitCode: 0, json, human };
}

const GC_ONLY = 'Each run is gc only (--gc-only): new environments are not deduplicated. Without --gc-only, each run first finds your environments anew and shares their pycs.';
const SHOWN_ENVS = 20;

/** Which environments the job covers today, and those only this shell's variables find. */
function coverageLines(c: Coverage, home: string): string[] {
  const tilde = (p: string): string => (p === home ? '~' : p.startsWith(`${home}${path.sep}`) ? `~${p.slice(home.length)}` : p);
  const lines = [
    `Each run finds your environments anew (a new project's .venv joins at the next run; gc drops deleted ones). Today: ` +
      `${describeKinds({ environments: c.environments.length, kinds: c.kinds })}${c.registeredRoots ? `, and ${c.registeredRoots} registered roots` : ''}:`,
    ...c.environments.slice(0, SHOWN_ENVS).map((e) => `  ${e.kind.padEnd(17)} ${tilde(e.path)}`),
    ...(c.environments.length > SHOWN_ENVS ? [`  … and ${c.environments.length - SHOWN_ENVS} more (pycstore envs lists them all)`] : []),
  ];
  if (c.missed.length) {
    const via = [...new Set(c.missed.map((m) => m.foundBy))].join(', ');
    lines.push(
      `The job will NOT see ${c.missed.length} environment${c.missed.length === 1 ? '' : 's'} found through this shell's ${via}: the scheduler does not pass those variables.`,
      ...c.missed.map((m) => `  ${m.kind.padEnd(17)} ${tilde(m.path)}`),
      `To cover them, add their folders to workspaces in pycstore's config file (keep "~" there too): pycstore help dedup`,
    );
  }
  return lines;
}

/** install --dry-run where the scheduler's command is missing. */
function missingNote(snap: Snapshot): string[] {
  if (snap.backend === 'cron' && snap.missing) return ['cron is not installed here: install it (Debian/Ubuntu: sudo apt-get install cron) before running install without --dry-run.'];
  if (snap.backend === 'schtasks' && snap.missing) return ['there is no schtasks command here: install needs Windows Task Scheduler.'];
  return [];
}

async function remove({ target, backend, why, given, snap, log, dryRun }: Scene, sys: System): Promise<CommandResult> {
  const plan = planRemove(target, snap);
  if (!dryRun) await applyPlan(plan, sys);
  const { meta } = plan;
  const store = target.storeDir;
  const json = {
    action: 'remove',
    backend,
    every: meta ? formatEvery(meta.every) : null,
    dedup: meta ? meta.dedup : null,
    wrote: [],
    removed: dryRun ? [] : plan.removed,
    store,
    notes: plan.notes,
    ...(dryRun ? { dryRun: true, wouldRemove: plan.removed, steps: stepJson(plan) } : {}),
  };
  const keptLog = backend === 'cron' || backend === 'launchd' ? [`Kept the log ${log} (the runs' output; delete it if you like).`] : [];
  const human =
    plan.removed.length === 0
      ? [
          `No ${backend} schedule for store ${store}: nothing to remove (${why}).`,
          ...(given ? [] : ['If you installed with --backend NAME, pass the same --backend to remove.']),
        ]
      : dryRun
        ? [`Dry run, nothing changed. Would remove the ${backend} schedule of store ${store}:`, ...plan.steps.map((s) => `  - ${describeStep(s)}`)]
        : [
            `Removed the ${backend} schedule of store ${store} (was: ${jobLabel(meta?.dedup ?? false)} ${everyText(meta?.every)}).`,
            ...plan.removed.map((r) => `  removed: ${r === CRONTAB ? 'its block from the crontab of this user' : r}`),
            ...plan.notes,
            ...keptLog,
          ];
  return { exitCode: 0, json, human };
}
