/** Human units for summaries. */

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** "1 object", "3 objects" (or the given plural). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** Parse "90s", "15m", "1h", "2d", "1w" or a bare number of seconds into milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[unit]!;
  return n * mult;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m} min ${s} s`;
}

/**
 * A horizontal bar `width` cells long: `filled` of them solid (█), the next
 * `shaded` light (░), in eighths of a cell for the solid part's end. Pure.
 */
export function bar(width: number, filled: number, shaded = 0): string {
  const eighths = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
  const solid = Math.max(0, Math.min(width, filled));
  const whole = Math.floor(solid);
  const part = eighths[Math.round((solid - whole) * 8)] ?? '';
  const head = '█'.repeat(whole) + (whole < width ? part : '');
  const light = Math.max(0, Math.min(width - head.length, Math.round(shaded)));
  return head + '░'.repeat(light);
}

/** Columns padded to their widest cell: left-aligned where `left(i)` (default: the first column), else right-aligned. */
export function table(rows: readonly (readonly string[])[], left: (column: number) => boolean = (i) => i === 0): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  const pad = (c: string, i: number): string => {
    const gap = ' '.repeat(Math.max(0, widths[i]! - [...c].length));
    return left(i) ? c + gap : gap + c;
  };
  return rows.map((r) => r.map(pad).join('  ').trimEnd());
}
