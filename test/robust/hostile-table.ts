/**
 * Bad and hostile input, one row per kind: how to make it, the command, the exit code and
 * message pycstore must give, and what must not be lost. test/robust/hostile.test.ts runs every
 * row against the built CLI and, for each, also checks that nothing was lost: every pyc in the
 * trees still loads to code equal to its original's with a header CPython accepts, every other
 * file (sources, hostile files) is byte-for-byte unchanged (scripts/check-venv-equivalence.py),
 * the files a row names are untouched (bytes and inode), stderr has no stack trace and at most
 * one error line, and a store that exists is consistent (`verify --full` and `audit` exit 0).
 *
 * The rows state the contract of issue 7, also where the code does not meet it yet.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ErrorCode } from '../../src/errors.js';
import { SCHEMA_VERSION } from '../../src/ledger/migrations.js';
import { ledgerPath } from '../../src/store/location.js';
import { pythonEnv, REPO_ROOT } from '../helpers/interpreters.js';
import { cleanEnv } from '../helpers/cli.js';
import { pycOf, SITE, testHome } from './helpers.js';

export const NOBODY = 65534;

export interface RowCtx {
  /** The row's folder (0755). */
  readonly dir: string;
  /** Two venv-shaped trees (copies of one template), and the package folder in each. */
  readonly tree: string;
  readonly pkg: string;
  readonly tree2: string;
  readonly pkg2: string;
  /** Where the store goes (not created by the driver). */
  readonly store: string;
  /** Real venvs (python -m venv, pip from ensurepip): for rows that need many files. */
  readonly venvs: readonly string[];
}

/** How the driver runs the command. */
export type How =
  | 'plain'
  | 'closed-stdout' // stdout closed by the reader before pycstore writes (`| head -c 0`)
  | 'sigint-while-linking' // SIGINT once the first venv pyc has become a store link
  | 'sigterm-while-linking'
  | 'as-nobody'; // as uid/gid 65534 (root reads everything)

export interface HostileRow {
  /** The kind of input: stable, unique. */
  readonly kind: string;
  readonly input: string;
  readonly how?: How;
  /** A loop-mounted filesystem the row builds its trees on. */
  readonly fs?: { readonly kind: 'ext4' | 'xfs'; readonly sizeMiB: number; readonly mkfsArgs?: readonly string[] };
  /** The trees are the real venvs (ctx.venvs), not the small package trees. */
  readonly venvs?: boolean;
  setup(c: RowCtx): void;
  /** argv after `pycstore` (the driver puts `--json` first unless json is false). */
  command(c: RowCtx): string[];
  readonly json?: boolean;
  readonly exit: number;
  /** On stderr (or in the --json error object's message / hint). */
  readonly message?: RegExp;
  readonly errorCode?: ErrorCode;
  /** The hostile pyc is counted under one of these dedup skip reasons (--json `skipped`). */
  readonly skippedAs?: readonly string[];
  /** Files that must keep their bytes, mode and inode. */
  untouched?(c: RowCtx): string[];
  /** A refusal: no store directory afterwards. */
  readonly createsNothing?: boolean;
  /** The store is broken on purpose: don't verify it afterwards. */
  readonly storeBroken?: boolean;
  /** Row-specific checks after the run. */
  after?(c: RowCtx, r: { code: number; stdout: string; stderr: string; json: Record<string, any> | undefined }): Promise<void> | void;
}

const HOSTILE_PYC = path.join(REPO_ROOT, 'test', 'robust', 'make-hostile-pyc.py');

/** A hostile pyc for a new module `name` of the first tree (its source written first). */
export function hostilePyc(c: RowCtx, kind: string, name = 'evil', source = 'X = "from source"\n'): string {
  writeFileSync(path.join(c.pkg, `${name}.py`), source);
  const pyc = pycOf(c.pkg, name);
  execFileSync('python3', [HOSTILE_PYC, kind, path.join(c.pkg, `${name}.py`), pyc], { env: pythonEnv() });
  return pyc;
}

const dedup = (c: RowCtx): string[] => ['--store', c.store, 'dedup', c.tree, c.tree2];
const evil = (c: RowCtx): string[] => [pycOf(c.pkg, 'evil')];

/** A dedup whose hostile pyc must be left exactly as it is and counted under a reason. */
function badPyc(kind: string, input: string, reasons: readonly string[]): HostileRow {
  return {
    kind,
    input,
    setup: (c) => void hostilePyc(c, kind),
    command: dedup,
    exit: 0,
    skippedAs: reasons,
    untouched: evil,
  };
}

function writeGarbage(file: string): void {
  writeFileSync(file, Buffer.from('this is not a SQLite database, it is garbage '.repeat(200)));
}

/** A store that a first dedup made. */
function storeMade(c: RowCtx): void {
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'cli.js'), '--store', c.store, 'dedup', c.tree, c.tree2], { stdio: 'ignore', env: cleanEnv(testHome()) });
}

const usage = (kind: string, input: string, args: (c: RowCtx) => string[], message: RegExp): HostileRow => ({
  kind,
  input,
  setup: () => undefined,
  command: args,
  exit: 2,
  errorCode: 'EUSAGE',
  message,
  createsNothing: true,
});

export const HOSTILE: readonly HostileRow[] = [
  // ------------------------------------------------------------ pycs dedup must leave alone
  badPyc('truncated', 'a fresh header, then half of a valid marshal stream', ['corrupt', 'truncated']),
  badPyc('garbage', 'a fresh header, then random bytes', ['corrupt']),
  badPyc('tuple-bomb', '1e6 nested 1-tuples (CPython refuses depth > 2000)', ['corrupt', 'unsupported']),
  badPyc('string-bomb', 'a string that claims 2^31 − 1 bytes and has 16', ['corrupt', 'truncated']),
  badPyc('code-differs', 'a fresh pyc whose code is not its source\'s (X = \'<path>\', co_filename shared with that constant)', ['code-differs']),
  {
    kind: 'trailing-bytes',
    input: 'a valid pyc with bytes after its marshal stream (marshal.loads never reads them)',
    setup: (c) => void hostilePyc(c, 'trailing'),
    command: dedup,
    exit: 0, // CPython loads it; linking its canonical form is equivalent (the checker proves it), skipping is fine too
  },
  {
    kind: 'too-large',
    input: 'a 1.9 GiB sparse .pyc with a valid, fresh header',
    setup: (c) => void hostilePyc(c, 'too-large'),
    command: dedup,
    exit: 0,
    skippedAs: ['too-large'],
    untouched: evil,
    // the driver also measures peak RSS against the same run without the big file: ≤ 100 MiB more
  },
  badPyc('empty', 'an empty .pyc', ['empty']),
  badPyc('wrong-magic', 'magic bytes of no Python', ['bad-magic']),
  badPyc('prerelease-magic', "the magic of a pre-release (3.11a7's 3494)", ['prerelease-or-unknown-magic']),
  badPyc('bad-flags', 'header flags 0b100 (importlib refuses unknown flags)', ['bad-flags']),
  badPyc('stale', 'a timestamp header naming another mtime than the source\'s', ['stale']),
  badPyc('wrong-hash', 'a checked-hash pyc whose hash is not its source\'s', ['stale']),
  {
    kind: 'no-source',
    input: 'a PEP 3147 pyc whose .py is gone',
    setup: (c) => {
      hostilePyc(c, 'trailing', 'gone');
      rmSync(path.join(c.pkg, 'gone.py'));
    },
    command: dedup,
    exit: 0,
    untouched: (c) => [pycOf(c.pkg, 'gone')],
    after: (_c, r) => expectCount(r.json?.['ignored']?.['no-source'], 'ignored no-source'),
  },
  {
    kind: 'sourceless-pyc',
    input: 'a legacy sourceless pyc next to the sources (pkg/legacy.pyc)',
    setup: (c) => execFileSync('cp', [pycOf(c.pkg, 'a'), path.join(c.pkg, 'legacy.pyc')]),
    command: dedup,
    exit: 0,
    untouched: (c) => [path.join(c.pkg, 'legacy.pyc')],
  },
  {
    kind: 'pyc-symlink',
    input: 'a __pycache__/*.pyc that is a symlink to a valid pyc',
    setup: (c) => {
      writeFileSync(path.join(c.pkg, 'linked.py'), 'Y = 2\n');
      execFileSync('python3', ['-c', 'import py_compile,sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2])', path.join(c.pkg, 'linked.py'), path.join(c.dir, 'elsewhere.pyc')], { env: pythonEnv() });
      symlinkSync(path.join(c.dir, 'elsewhere.pyc'), pycOf(c.pkg, 'linked'));
    },
    command: dedup,
    exit: 0,
    untouched: (c) => [pycOf(c.pkg, 'linked'), path.join(c.dir, 'elsewhere.pyc')],
    after: (_c, r) => expectCount(r.json?.['ignored']?.['not-regular-file'], 'ignored not-regular-file'),
  },
  {
    kind: 'pycache-symlink',
    input: 'a __pycache__ folder that is a symlink to another folder of pycs',
    setup: (c) => {
      const sub = path.join(c.pkg, 'sub');
      mkdirSync(sub);
      writeFileSync(path.join(sub, '__init__.py'), 'Z = 3\n');
      const real = path.join(c.dir, 'real-pycache');
      mkdirSync(real);
      execFileSync('python3', ['-c', 'import py_compile,sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2])', path.join(sub, '__init__.py'), path.join(real, '__init__.cpython-311.pyc')], { env: pythonEnv() });
      symlinkSync(real, path.join(sub, '__pycache__'));
    },
    command: dedup,
    exit: 0,
    untouched: (c) => [path.join(c.pkg, 'sub', '__pycache__'), path.join(c.dir, 'real-pycache', '__init__.cpython-311.pyc')],
  },
  {
    kind: 'fifo-pyc',
    input: 'a FIFO named like a pyc (reading it would block forever)',
    setup: (c) => {
      writeFileSync(path.join(c.pkg, 'pipe.py'), 'P = 1\n');
      execFileSync('mkfifo', [pycOf(c.pkg, 'pipe')]);
    },
    command: dedup,
    exit: 0,
    untouched: (c) => [pycOf(c.pkg, 'pipe')],
    after: (_c, r) => expectCount(r.json?.['ignored']?.['not-regular-file'], 'ignored not-regular-file'),
  },
  {
    kind: 'unreadable-pyc',
    input: 'a pyc with mode 0000 (run as uid 65534: root reads everything)',
    how: 'as-nobody',
    setup: (c) => chmodSync(pycOf(c.pkg, 'a'), 0o000),
    command: dedup,
    exit: 1,
    skippedAs: ['unreadable'],
    message: /could not be read/,
    untouched: (c) => [pycOf(c.pkg, 'a')],
  },
  {
    kind: 'unreadable-dir',
    input: 'a package folder with mode 0000 (run as uid 65534): must not exit 0 silently',
    how: 'as-nobody',
    setup: (c) => chmodSync(path.join(c.pkg2), 0o000),
    command: dedup,
    exit: 1,
    message: /cannot read directory/,
  },
  // ------------------------------------------------------------ stores and ledgers
  {
    kind: 'store-is-a-file',
    input: '--store naming a regular file',
    setup: (c) => writeFileSync(c.store, 'mine\n'),
    command: dedup,
    exit: 2,
    errorCode: 'ESTOREPERM',
    message: /is not a directory/,
    untouched: (c) => [c.store],
  },
  {
    kind: 'corrupt-ledger',
    input: 'the ledger overwritten with garbage (dedup, gc, status, audit, verify, unshare all refuse it; the way out works)',
    setup: (c) => {
      storeMade(c);
      writeGarbage(ledgerPath(c.store));
    },
    command: (c) => ['--store', c.store, 'gc'],
    exit: 2,
    errorCode: 'ELEDGER',
    message: /ledger-v1\.sqlite.*mv /s,
    storeBroken: true,
    // the driver runs the other commands too, then follows the hint (mv aside, dedup again)
  },
  {
    kind: 'newer-ledger',
    input: 'a ledger whose schema version is newer than this pycstore knows',
    setup: (c) => {
      storeMade(c);
      const db = new Database(ledgerPath(c.store));
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
    },
    command: dedup,
    exit: 2,
    errorCode: 'ESTOREFORMAT',
    message: /newer pycstore/,
    storeBroken: true,
  },
  {
    kind: 'store-writable-by-others',
    input: 'a store folder with mode 0777',
    setup: (c) => {
      storeMade(c);
      chmodSync(c.store, 0o777);
    },
    command: dedup,
    exit: 2,
    errorCode: 'ESTOREPERM',
    message: /chmod go-w/,
    storeBroken: true,
  },
  {
    kind: 'parent-writable-by-others',
    input: 'the store\'s parent folder 0777 and not sticky (anyone could swap the store)',
    setup: (c) => {
      mkdirSync(path.dirname(c.store), { recursive: true });
      chmodSync(path.dirname(c.store), 0o777);
    },
    command: dedup,
    exit: 2,
    errorCode: 'ESTOREPERM',
    message: /writable by group or others.*chmod/s,
    createsNothing: true,
  },
  {
    kind: 'store-root-parent-writable',
    input: '--store-root under a folder others may write',
    setup: (c) => {
      mkdirSync(path.join(c.dir, 'open'), { mode: 0o777 });
      chmodSync(path.join(c.dir, 'open'), 0o777);
    },
    command: (c) => ['--store', c.store, 'dedup', '--store-root', path.join(c.dir, 'open', 'objects'), c.tree],
    exit: 2,
    errorCode: 'ESTOREPERM',
    createsNothing: true,
    after: (c) => expectMissing(path.join(c.dir, 'open', 'objects')),
  },
  // ------------------------------------------------------------ usage errors: exit 2, nothing created
  usage('no-such-path', 'a PATH that does not exist', (c) => ['--store', c.store, 'dedup', path.join(c.dir, 'nope')], /no such directory/),
  usage('path-is-a-file', 'a PATH that is a file', (c) => ['--store', c.store, 'dedup', path.join(c.pkg, 'a.py')], /not a directory/),
  usage('bare-dedup-new-store', 'dedup --no-discover without PATH on a store that has no roots yet', (c) => ['--store', c.store, 'dedup', '--no-discover'], /no PATH given/),
  usage('pycache-prefix-missing', '--pycache-prefix naming a folder that does not exist', (c) => ['--store', c.store, 'dedup', '--pycache-prefix', path.join(c.dir, 'nope'), c.tree], /--pycache-prefix .*no such directory/),
  usage('pycache-prefix-relative', '--pycache-prefix with a relative path', (c) => ['--store', c.store, 'dedup', '--pycache-prefix', 'rel/dir', c.tree], /absolute path/),
  usage('bad-invalidation', '--invalidation with an unknown value', (c) => ['--store', c.store, 'dedup', '--invalidation', 'sometimes', c.tree], /--invalidation must be/),
  usage('bad-jobs', '--jobs 0, --jobs x', (c) => ['--store', c.store, 'dedup', '--jobs', '0', c.tree], /--jobs must be/),
  usage('bad-link-mode', '--link-mode symlink', (c) => ['--store', c.store, 'dedup', '--link-mode', 'symlink', c.tree], /--link-mode must be/),
  usage('fill-byte-identical', '--fill with --byte-identical', (c) => ['--store', c.store, 'dedup', '--fill', '--byte-identical', c.tree], /--fill needs canonical/),
  usage('unknown-command', 'a command pycstore does not have', (c) => ['--store', c.store, 'dedupe', c.tree], /unknown command "dedupe"/),
  usage('unknown-flag', 'a flag the command does not have', (c) => ['--store', c.store, 'dedup', '--fast', c.tree], /Unknown option '--fast'/),
  usage('bad-grace', 'gc --grace soon', (c) => ['--store', c.store, 'gc', '--grace', 'soon'], /--grace must be/),
  {
    kind: 'reflink-on-ext4',
    input: '--link-mode reflink with the store on ext4 (no FICLONE)',
    fs: { kind: 'ext4', sizeMiB: 64 },
    setup: () => undefined,
    command: (c) => ['--store', c.store, 'dedup', '--link-mode', 'reflink', c.tree, c.tree2],
    exit: 2,
    errorCode: 'ENOREFLINK',
    message: /can't make reflinks/,
    createsNothing: true,
    after: (_c, r) => {
      // said once, up front: no warning per file
      if (/warning/.test(r.stderr)) throw new Error(`warnings besides the refusal:\n${r.stderr.slice(0, 2000)}`);
    },
  },
  // ------------------------------------------------------------ the environment fails mid-run
  {
    kind: 'enospc',
    input: 'the store\'s filesystem full (a tiny ext4 image, filled but for 256 KiB)',
    // No blocks reserved for root (-m 0): this root run could use ext4's default 5% (~4.8 MiB) beyond what df calls
    // available, and some runs then never ran out (their links free the copies' blocks as they go).
    fs: { kind: 'ext4', sizeMiB: 96, mkfsArgs: ['-m', '0'] },
    venvs: true,
    setup: (c) => {
      // fill the filesystem of the trees, leaving 256 KiB
      const free = Number(execFileSync('df', ['--output=avail', '-B1', c.dir]).toString().split('\n')[1]);
      execFileSync('fallocate', ['-l', String(Math.max(0, free - 256 * 1024)), path.join(c.dir, 'filler')]);
    },
    command: (c) => ['--store', c.store, 'dedup', ...c.venvs],
    exit: 1,
    message: /no space[^\n]*\d+(\.\d+)? (B|KiB|MiB|GiB)/i, // the space needed; the driver also wants the store's path
    // the driver: exactly one line about it; then with space freed the next run completes
  },
  {
    kind: 'closed-stdout',
    input: 'stdout closed by the reader (pycstore status | head -c 0)',
    how: 'closed-stdout',
    setup: (c) => storeMade(c),
    command: (c) => ['--store', c.store, 'status'],
    json: false,
    exit: 0,
    after: (_c, r) => {
      if (r.stderr !== '') throw new Error(`a closed stdout must be quiet, got:\n${r.stderr}`);
    },
  },
  {
    kind: 'sigint-while-linking',
    input: 'SIGINT (Ctrl-C) while dedup links',
    how: 'sigint-while-linking',
    venvs: true,
    setup: () => undefined,
    command: (c) => ['--store', c.store, 'dedup', ...c.venvs],
    json: false,
    exit: 130,
    message: /interrupted: [\d,]+ linked so far; run again to finish/,
    // the driver: the ledger's links equal the venv pycs that are a store inode
  },
  {
    kind: 'sigterm-while-linking',
    input: 'SIGTERM (systemd stop, kill) while dedup links',
    how: 'sigterm-while-linking',
    venvs: true,
    setup: () => undefined,
    command: (c) => ['--store', c.store, 'dedup', ...c.venvs],
    json: false,
    exit: 143,
    message: /interrupted: [\d,]+ linked so far; run again to finish/,
  },
];

function expectCount(n: unknown, what: string): void {
  if (typeof n !== 'number' || n < 1) throw new Error(`expected ${what} ≥ 1, got ${String(n)}`);
}

function expectMissing(p: string): void {
  try {
    execFileSync('test', ['!', '-e', p]);
  } catch {
    throw new Error(`${p} was created`);
  }
}

/** For as-nobody rows: hand the row's folder to uid 65534 so it can run there. */
export function giveToNobody(dir: string): void {
  execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, dir]);
  chownSync(dir, NOBODY, NOBODY);
}

export { SITE };
