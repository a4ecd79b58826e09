/**
 * The command line's parsing, directly and through the built CLI: global
 * options anywhere, strict per-command options (a typo is a usage error, exit
 * 2, with where to look), help built from the same specs as the parser.
 */
import { describe, expect, it } from 'vitest';
import { commandHelp, findCommand, GLOBAL_OPTIONS, mainHelp, parseCommandArgs } from '../../src/cli/args.js';
import { spec as dedupSpec } from '../../src/commands/dedup.js';
import { spec as statusSpec } from '../../src/commands/status.js';
import { PycstoreError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';

function usage(fn: () => unknown): PycstoreError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PycstoreError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('findCommand', () => {
  it('takes the first bare word as the command, skipping --store and its value', () => {
    expect(findCommand(['--store', 'dedup', 'gc', '--json'])).toEqual({ command: 'gc', rest: ['--store', 'dedup', '--json'] });
    expect(findCommand(['--json', 'dedup', '-n', 'a', 'b'])).toEqual({ command: 'dedup', rest: ['--json', '-n', 'a', 'b'] });
    expect(findCommand(['--', 'dedup'])).toEqual({ command: undefined, rest: ['--', 'dedup'] });
    expect(findCommand([])).toEqual({ command: undefined, rest: [] });
  });
});

describe('parseCommandArgs', () => {
  it("parses a command's own and the global options, repeatable ones as lists", () => {
    const { values, positionals } = parseCommandArgs(dedupSpec, ['--json', '-n', '--store-root', '/x', '--store-root', '/y', '--jobs', '4', 'a', 'b']);
    expect(values).toMatchObject({ json: true, 'dry-run': true, 'store-root': ['/x', '/y'], jobs: '4' });
    expect(positionals).toEqual(['a', 'b']);
  });

  it('refuses an unknown option, a missing value and positionals where none are taken, as EUSAGE with a hint', () => {
    const typo = usage(() => parseCommandArgs(dedupSpec, ['--dryrun']));
    expect(typo.code).toBe('EUSAGE');
    expect(typo.message).toMatch(/--dryrun/);
    expect(typo.hint).toBe('see: pycstore dedup --help');
    expect(usage(() => parseCommandArgs(dedupSpec, ['--jobs'])).code).toBe('EUSAGE');
    const extra = usage(() => parseCommandArgs(statusSpec, ['oops']));
    expect(extra.message).toBe('status takes no arguments (got oops)');
  });

  it('help lists every option of the spec and the global ones', () => {
    const help = commandHelp(dedupSpec);
    for (const name of [...Object.keys(dedupSpec.options), ...Object.keys(GLOBAL_OPTIONS)]) expect(help).toContain(`--${name}`);
    expect(mainHelp([{ name: 'dedup', summary: 'x' }])).toMatch(/Commands:\n {2}dedup {2}x/);
  });
});

describe('the built CLI', () => {
  it('exit 2 for no command, an unknown one and a bad flag value; --json carries the error code', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no command given/);
    const unknown = await runCli(['--json', 'dedupe']);
    expect(unknown.code).toBe(2);
    expect(unknown.json).toMatchObject({ error: { code: 'EUSAGE' } });
    const jobs = await runCli(['dedup', '--jobs', 'many', '/nonexistent']);
    expect(jobs.code).toBe(2);
    expect(jobs.stderr).toMatch(/--jobs must be a whole number from 1 to 256 \(got "many"\)/);
    const mode = await runCli(['dedup', '--link-mode', 'symlink', '/nonexistent']);
    expect(mode.code).toBe(2);
    expect(mode.stderr).toMatch(/--link-mode must be auto, reflink or hardlink/);
  });
});
