/**
 * What a scheduled `pycstore dedup` covers. The job finds the environments
 * anew at every run (a new project's .venv joins at the next one; gc drops
 * the deleted ones), and it runs in the scheduler's environment: HOME, PATH,
 * the user's name — not the variables of the shell that ran `install`
 * (POETRY_VIRTUALENVS_PATH, WORKON_HOME, …), except under Windows' Task
 * Scheduler, which passes the user's own. So discovery runs twice here: as the
 * job will see the machine, and as this shell does; what only the shell finds
 * is what the job would miss.
 */
import { memoryOutput, type Output } from '../util/output.js';
import { findTargets, registeredRoots } from './targets.js';

export interface Coverage {
  /** What each run would find today, as the job sees the machine. */
  environments: { kind: string; path: string }[];
  kinds: Record<string, number>;
  /** Roots of earlier runs that no discovery finds, scanned too. */
  registeredRoots: number;
  /** Found only through this shell's variables: the job will not see them. */
  missed: { kind: string; path: string; foundBy: string }[];
}

/** Variables a cron, systemd or launchd job has: the rest of the shell's are not passed. */
const SCHEDULER_VARIABLES = ['PATH', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'TMPDIR', 'XDG_RUNTIME_DIR'];

export function schedulerEnv(env: Readonly<Record<string, string | undefined>>, home: string, passesAll: boolean): Record<string, string | undefined> {
  if (passesAll) return { ...env, HOME: home };
  const out: Record<string, string | undefined> = { HOME: home };
  for (const k of SCHEDULER_VARIABLES) if (env[k] !== undefined) out[k] = env[k];
  return out;
}

export async function scheduledCoverage(opts: {
  readonly storeDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home: string;
  /** The scheduler passes the user's variables (Task Scheduler). */
  readonly passesAll: boolean;
  readonly out: Output;
}): Promise<Coverage> {
  let registered: string[] = [];
  try {
    registered = registeredRoots(opts.storeDir);
  } catch (err) {
    // The schedule is still right; only the list is shorter.
    opts.out.warn(`cannot read the roots registered in the store, so they are not listed: ${(err as Error).message}`);
  }
  const base = { paths: [], discover: true, registered, home: opts.home } as const;
  const job = await findTargets({ ...base, env: schedulerEnv(opts.env, opts.home, opts.passesAll), out: opts.out });
  const shell = await findTargets({ ...base, env: { ...opts.env, HOME: opts.home }, out: memoryOutput() });
  const seen = new Set(job.environments.map((e) => e.path));
  return {
    environments: job.environments.map((e) => ({ kind: e.kind, path: e.path })),
    kinds: job.discovery?.kinds ?? {},
    registeredRoots: job.discovery?.registeredRoots ?? registered.length,
    missed: shell.environments.filter((e) => !seen.has(e.path)).map((e) => ({ kind: e.kind, path: e.path, foundBy: e.foundBy })),
  };
}
