/**
 * Quoting for each place a path ends up in: a POSIX shell word, a crontab
 * command (shell plus cron's own `%` rule), a systemd ExecStart= argument,
 * XML text, and a Windows command-line argument. Pure functions; each one is
 * tested with spaces, quotes, `%`, `$` and backslashes.
 */
import { PycstoreError } from '../errors.js';

const SAFE_WORD = /^[A-Za-z0-9_\-.,/:=@+]+$/;

/** Refuse text no scheduler can carry on one line (newline, tab, other control characters). */
export function assertPrintable(what: string, text: string): void {
  if (/[\x00-\x1f\x7f]/.test(text)) {
    throw new PycstoreError('ESCHEDULE', `${what} contains a control character (newline, tab, ...): ${JSON.stringify(text)}`, {
      hint: 'cron lines, unit files and plists are line- or XML-based and cannot carry it; use a path without one',
      data: { path: text },
    });
  }
}

/** One POSIX shell word: bare when it is only safe characters, else single-quoted. */
export function shQuote(word: string): string {
  if (SAFE_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * One shell word inside a crontab command. cron turns every `%` not preceded
 * by a backslash into a newline (and drops the rest of the line into stdin),
 * and `\%` into `%` before the shell sees it. A `%` is therefore written
 * outside the single quotes as `\%`, so the backslash is always preceded by a
 * quote, never by another backslash (which would escape the backslash instead).
 */
export function cronQuote(word: string): string {
  if (SAFE_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`).replace(/%/g, `'\\%'`)}'`;
}

/**
 * One argument of a systemd ExecStart= line (systemd.service(5), "Command
 * lines"): double-quoted with C-style `\\` and `\"` when it is not a safe
 * bare word, and `%` → `%%` (specifiers), `$` → `$$` (environment variables).
 */
export function systemdQuote(arg: string): string {
  const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (SAFE_WORD.test(arg)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** XML character data (element text; the generators put no paths in attributes). */
export function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * One argument of a Windows command line, as CommandLineToArgvW and the MSVC
 * runtime split it: quoted when it has a space, tab or quote; a quote becomes
 * `\"`; backslashes are doubled only where they precede a quote (including the
 * closing one).
 */
export function windowsQuoteArg(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  let out = '"';
  let slashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      slashes++;
      continue;
    }
    if (ch === '"') {
      out += '\\'.repeat(slashes * 2 + 1) + '"';
    } else {
      out += '\\'.repeat(slashes) + ch;
    }
    slashes = 0;
  }
  return `${out}${'\\'.repeat(slashes * 2)}"`;
}
