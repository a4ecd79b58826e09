/**
 * The shape every command module has. `cli.ts` is a table of these; each
 * command lives in `src/commands/<name>.ts` and is imported only when it runs.
 *
 * Commands never call process.exit and never write to stdout themselves: they
 * return a result; the entry file prints it (human text, or exactly one JSON
 * object with --json) and exits with its code. Warnings and progress go to
 * `ctx.out` (stderr).
 */
import type { Output } from '../util/output.js';

export interface OptionSpec {
  readonly type: 'boolean' | 'string';
  readonly short?: string;
  readonly multiple?: boolean;
  /** Value name shown in --help, e.g. "DIR". */
  readonly arg?: string;
  readonly help: string;
  readonly default?: string;
}

export interface CommandSpec {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** e.g. "pycstore dedup [options] [PATH...]" */
  readonly usage: string;
  /** Paragraphs shown under the usage line. */
  readonly description: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Worked examples, each "command  # what it does". */
  readonly examples: readonly string[];
  readonly positionals: 'none' | 'any';
  /** What this command's exit status 1 means, when it says more than "some files failed" (shown in --help). */
  readonly exitNotes?: readonly string[];
}

export interface Context {
  /** Resolved store directory (--store, $PYCSTORE_HOME, or the user cache dir). */
  readonly storeDir: string;
  readonly json: boolean;
  readonly out: Output;
  readonly env: NodeJS.ProcessEnv;
  /**
   * Aborted when SIGINT or SIGTERM arrives (its `reason` is the signal's name). A command that
   * honours it (see CommandModule.interrupt) stops at its next safe point, records what it did,
   * and returns its partial result; the entry file then exits 130 (SIGINT) or 143 (SIGTERM).
   */
  readonly signal: AbortSignal;
}

export interface CommandResult {
  /** 0 success, 1 some items failed or a problem was found (each reported). Refusals are thrown (exit 2). */
  readonly exitCode: 0 | 1;
  /** The --json object. */
  readonly json: Record<string, unknown>;
  /** Human summary lines for stdout. */
  readonly human: readonly string[];
}

export type Values = Record<string, string | boolean | string[] | undefined>;

/**
 * What a command does when SIGINT/SIGTERM arrives while it runs:
 * - 'honours': it watches ctx.signal, stops at its next safe point and reports what it did;
 * - 'finishes' (default): it can't stop part-way; it finishes its run, then the process exits
 *   130/143 (a second signal stops it at once, which its crash recovery makes safe);
 * - 'dies': it changes nothing on disk (read-only): the signal's default action ends it at once.
 * `readOnly(values, positionals)` marks the runs that change nothing (e.g. --dry-run): they die at once too.
 */
export type InterruptHandling = 'honours' | 'finishes' | 'dies';

export interface CommandModule {
  readonly spec: CommandSpec;
  readonly interrupt?: InterruptHandling;
  readonly readOnly?: (values: Values, positionals: readonly string[]) => boolean;
  run(values: Values, positionals: string[], ctx: Context): Promise<CommandResult>;
}
