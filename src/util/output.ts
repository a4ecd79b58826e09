/**
 * Everything a command says besides its result: warnings, notes and a live
 * progress line. All of it goes to stderr so stdout stays the result (and,
 * with --json, exactly one JSON object). The progress line is drawn only when
 * stderr is a terminal; when piped there is none.
 */
export interface Output {
  warn(message: string): void;
  note(message: string): void;
  /** Replace the live progress line (no-op unless stderr is a TTY). */
  progress(line: string): void;
  /** Clear the live progress line. */
  done(): void;
}

export function makeOutput(opts: { quiet?: boolean; stream?: NodeJS.WriteStream; progress?: boolean } = {}): Output {
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
    progress: () => undefined,
    done: () => undefined,
  };
}
