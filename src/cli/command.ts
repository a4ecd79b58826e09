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
}

export interface Context {
  /** Resolved store directory (--store, $PYCSTORE_HOME, or the user cache dir). */
  readonly storeDir: string;
  readonly json: boolean;
  readonly out: Output;
  readonly env: NodeJS.ProcessEnv;
}

export interface CommandResult {
  /** 0 success, 1 some items failed (each reported), 130/143 interrupted by SIGINT/SIGTERM. Usage errors are thrown (exit 2). */
  readonly exitCode: 0 | 1 | 130 | 143;
  /** The --json object. */
  readonly json: Record<string, unknown>;
  /** Human summary lines for stdout. */
  readonly human: readonly string[];
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface CommandModule {
  readonly spec: CommandSpec;
  run(values: Values, positionals: string[], ctx: Context): Promise<CommandResult>;
}
