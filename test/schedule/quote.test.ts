import { describe, expect, it } from 'vitest';
import { PycstoreError } from '../../src/errors.js';
import { assertPrintable, cronQuote, shQuote, systemdQuote, windowsQuoteArg, xmlText } from '../../src/schedule/quote.js';
import { execFile } from '../../src/schedule/system.js';

const NASTY = ['/plain/path', '/with space/x', "/it's/here", '/50%/off', '/a\\%b', '/dollar$HOME', '/back\\slash\\', '/"dq"', '/semi;colon&amp'];

/**
 * cron's own rule for the command field (Debian cron, do_command.c): `\%`
 * becomes `%`; a `%` not after a backslash ends the command (the rest is
 * stdin); other backslashes stay.
 */
function cronUnescape(cmd: string): string {
  let out = '';
  let escaped = false;
  for (const ch of cmd) {
    if (escaped) {
      out += ch === '%' ? '%' : `\\${ch}`;
      escaped = false;
      continue;
    }
    if (ch === '\\') {
      escaped = true;
      continue;
    }
    if (ch === '%') break;
    out += ch;
  }
  return escaped ? `${out}\\` : out;
}

async function shWords(script: string): Promise<string[]> {
  const r = await execFile(['/bin/sh', '-c', `for a in ${script}; do printf '%s\\0' "$a"; done`]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\0').slice(0, -1);
}

describe('shell and cron quoting', () => {
  it('leaves safe words bare and single-quotes the rest', () => {
    expect(shQuote('/usr/bin/node')).toBe('/usr/bin/node');
    expect(shQuote('/with space/x')).toBe("'/with space/x'");
    expect(shQuote("/it's")).toBe(`'/it'\\''s'`);
    expect(cronQuote('/50%/off')).toBe(`'/50'\\%'/off'`);
    expect(cronQuote('/a\\%b')).toBe(`'/a\\'\\%'b'`);
  });

  it('round-trips every nasty path through /bin/sh', async () => {
    expect(await shWords(NASTY.map(shQuote).join(' '))).toEqual(NASTY);
  });

  it('round-trips every nasty path through cron’s % rule and then /bin/sh', async () => {
    const line = NASTY.map(cronQuote).join(' ');
    expect(await shWords(cronUnescape(line))).toEqual(NASTY);
  });
});

describe('systemd ExecStart quoting', () => {
  it('doubles % and $, C-escapes backslashes and quotes inside double quotes', () => {
    expect(systemdQuote('/usr/bin/node')).toBe('/usr/bin/node');
    expect(systemdQuote('/with space/x')).toBe('"/with space/x"');
    expect(systemdQuote('/50%/off')).toBe('"/50%%/off"');
    expect(systemdQuote('/dollar$HOME')).toBe('"/dollar$$HOME"');
    expect(systemdQuote('/"dq"\\')).toBe('"/\\"dq\\"\\\\"');
  });
});

describe('xml and windows quoting', () => {
  it('escapes &, < and > in XML text, nothing else', () => {
    expect(xmlText(`<a href="x">'&'</a>`)).toBe(`&lt;a href="x"&gt;'&amp;'&lt;/a&gt;`);
  });

  it('quotes Windows arguments the way CommandLineToArgvW splits them', () => {
    expect(windowsQuoteArg('C:\\pyc\\store')).toBe('C:\\pyc\\store');
    expect(windowsQuoteArg('C:\\Program Files\\x')).toBe('"C:\\Program Files\\x"');
    expect(windowsQuoteArg('C:\\with space\\')).toBe('"C:\\with space\\\\"');
    expect(windowsQuoteArg('say "hi"')).toBe('"say \\"hi\\""');
    expect(windowsQuoteArg('a\\"b c')).toBe('"a\\\\\\"b c"');
    expect(windowsQuoteArg('')).toBe('""');
  });
});

describe('assertPrintable', () => {
  it('refuses newlines and other control characters with ESCHEDULE', () => {
    expect(() => assertPrintable('the store path', '/ok path/%$')).not.toThrow();
    for (const bad of ['/a\nb', '/a\tb', '/a\rb', '/a\x00b']) {
      try {
        assertPrintable('the store path', bad);
        expect.unreachable();
      } catch (err) {
        expect((err as PycstoreError).code).toBe('ESCHEDULE');
      }
    }
  });
});
