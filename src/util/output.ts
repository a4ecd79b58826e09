/**
 * Everything a command says besides its result: warnings, notes, details and
 * a live progress line. All of it goes to stderr so stdout stays the result
 * (and, with --json, exactly one JSON object). The progress line is drawn
 * only when stderr is a terminal; when piped there is none. `--quiet` keeps
 * only warnings; `--verbose` adds the details (`info`).
 *
 * Every command's progress line has one shape (progressText): what it is
 * doing, the count (of the total, with a percentage, when known) and the rate,
 * e.g. `reading: 1,234/5,000 pycs (24%), 850/s, 12.0 MiB`.
 */
import { formatCount } from './format.js';

export interface Output {
  warn(message: string): void;
  note(message: string): void;
  /** A detail shown with --verbose only. */
  info(message: string): void;
  /** Replace the live progress line (no-op unless stderr is a TTY). */
  progress(line: string): void;
  /** Clear the live progress line. */
  done(): void;
}

export function makeOutput(opts: { quiet?: boolean; verbose?: boolean; stream?: NodeJS.WriteStream; progress?: boolean } = {}): Output {
  const stream = opts.stream ?? process.stderr;
  const live = (opts.progress ?? true) && Boolean(stream.isTTY) && !opts.quiet && process.env['CI'] !== 'true';
  let shown = false;
  let last = 0;
  const clear = (): void => {
    if (shown) {
      stream.write('\r\x1b[2K');
      shown = false;
    }
  };
  return {
    warn(message) {
      clear();
      stream.write(`pycstore: warning: ${message}\n`);
    },
    note(message) {
      if (opts.quiet) return;
      clear();
      stream.write(`pycstore: ${message}\n`);
    },
    info(message) {
      if (!opts.verbose || opts.quiet) return;
      clear();
      stream.write(`pycstore: ${message}\n`);
    },
    progress(line) {
      if (!live) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const width = (stream.columns || 80) - 1;
      stream.write(`\r\x1b[2K${line.length > width ? line.slice(0, width) : line}`);
      shown = true;
    },
    done() {
      clear();
    },
  };
}

/** An Output that records everything, for tests and library callers. */
export function memoryOutput(): Output & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    warn: (m) => void lines.push(`warning: ${m}`),
    note: (m) => void lines.push(m),
    info: (m) => void lines.push(`info: ${m}`),
    progress: () => undefined,
    done: () => undefined,
  };
}

export interface ProgressState {
  /** What is being done: "reading", "scanning", "linking". */
  readonly label: string;
  readonly done: number;
  /** The total, when known (then a percentage is shown). */
  readonly total?: number | undefined;
  /** What is counted: "pycs", "folders". */
  readonly unit: string;
  readonly elapsedMs: number;
  /** More, after the rate: "12.0 MiB". */
  readonly extra?: string | undefined;
}

/** The one progress line shape: `label: done/total unit (pct%), rate/s, extra`. Pure. */
export function progressText(p: ProgressState): string {
  const count = p.total === undefined ? formatCount(p.done) : `${formatCount(p.done)}/${formatCount(p.total)}`;
  const parts = [`${p.label}: ${count} ${p.unit}`];
  if (p.total !== undefined && p.total > 0) parts[0] += ` (${Math.min(100, Math.floor((100 * p.done) / p.total))}%)`;
  if (p.elapsedMs >= 1000) parts.push(`${formatCount(Math.round((p.done * 1000) / p.elapsedMs))}/s`);
  if (p.extra) parts.push(p.extra);
  return parts.join(', ');
}

export interface Progress {
  /** `done` so far (and the total, when it grew or became known). */
  update(done: number, extra?: string, total?: number): void;
}

/** A progress line for one step, its rate counted from now. */
export function progressOf(out: Output, label: string, unit: string, total?: number, now: () => number = Date.now): Progress {
  const started = now();
  let known = total;
  return {
    update(done, extra, t) {
      if (t !== undefined) known = t;
      out.progress(progressText({ label, done, total: known, unit, elapsedMs: now() - started, extra }));
    },
  };
}
