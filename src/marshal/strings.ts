/**
 * Python str <-> bytes, the way marshal does it: UTF-8 with Python's "surrogatepass"
 * (a lone surrogate is its 3-byte encoding), and Latin-1 for the z/Z/a/A codes.
 */

/** 1 = valid and all ASCII, 0 = valid UTF-8 (surrogatepass), -1 = invalid. */
export function classifyUtf8(b: Uint8Array, from = 0, to = b.length): 1 | 0 | -1 {
  const n = to;
  let i = from;
  while (i < n && b[i]! < 0x80) i++;
  if (i === n) return 1;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c === 0xe0) {
      need = 2;
      lo = 0xa0;
    } else if (c >= 0xe1 && c <= 0xef) need = 2; // includes 0xed: surrogates pass
    else if (c === 0xf0) {
      need = 3;
      lo = 0x90;
    } else if (c >= 0xf1 && c <= 0xf3) need = 3;
    else if (c === 0xf4) {
      need = 3;
      hi = 0x8f;
    } else return -1;
    if (i + need >= n) return -1; // truncated sequence
    const c1 = b[i + 1]!;
    if (c1 < lo || c1 > hi) return -1;
    for (let k = 2; k <= need; k++) {
      const ck = b[i + k]!;
      if (ck < 0x80 || ck > 0xbf) return -1;
    }
    i += need + 1;
  }
  return 0;
}

/** True when every byte is < 0x80. */
export function isAscii(b: Uint8Array, from = 0, to = b.length): boolean {
  for (let i = from; i < to; i++) if (b[i]! >= 0x80) return false;
  return true;
}

/** Latin-1 bytes (a z/Z/a/A payload with bytes >= 0x80) to UTF-8. */
export function latin1ToUtf8(b: Uint8Array): Uint8Array {
  let extra = 0;
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) extra++;
  const out = new Uint8Array(b.length + extra);
  let j = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c < 0x80) out[j++] = c;
    else {
      out[j++] = 0xc0 | (c >> 6);
      out[j++] = 0x80 | (c & 0x3f);
    }
  }
  return out;
}

/**
 * A JS string as Python would encode the same str with "surrogatepass": a surrogate
 * pair is one astral code point (4 bytes), a lone surrogate 3 bytes.
 */
export function encodeUtf8Surrogatepass(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return Uint8Array.from(out);
}

/**
 * Valid surrogatepass UTF-8 to a JS string. Lone surrogates stay lone code units; note
 * that a Python str holding a high+low surrogate pair as two code points comes out the
 * same as the astral character they would form.
 */
export function decodeUtf8Surrogatepass(b: Uint8Array): string {
  let s = '';
  let i = 0;
  const n = b.length;
  while (i < n) {
    const c = b[i]!;
    let cp: number;
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if (c < 0xe0) {
      cp = ((c & 0x1f) << 6) | (b[i + 1]! & 0x3f);
      i += 2;
    } else if (c < 0xf0) {
      cp = ((c & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f);
      i += 3;
    } else {
      cp = ((c & 0x07) << 18) | ((b[i + 1]! & 0x3f) << 12) | ((b[i + 2]! & 0x3f) << 6) | (b[i + 3]! & 0x3f);
      i += 4;
    }
    s += String.fromCodePoint(cp);
  }
  return s;
}

/** memcmp order, then length (Python's bytes ordering). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Equal byte ranges `a[as .. as+n)` and `b[bs .. bs+n)`. */
export function rangeEqual(a: Uint8Array, as: number, b: Uint8Array, bs: number, n: number): boolean {
  if (a === b && as === bs) return true;
  if (n > 96) return Buffer.compare(a.subarray(as, as + n), b.subarray(bs, bs + n)) === 0; // native memcmp
  for (let i = 0; i < n; i++) if (a[as + i] !== b[bs + i]) return false;
  return true;
}
