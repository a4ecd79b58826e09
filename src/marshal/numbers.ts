/**
 * Numbers between their marshal encodings and the normal form of the graph: ints that
 * fit int32 as JS numbers, others as base-2^15 digits (marshal's own long format).
 */

/** The value of at most 3 little-endian base-2^15 digits (exact: < 2^45). */
export function smallDigitsValue(digits: Uint8Array, start: number, count: number): number {
  let v = 0;
  for (let i = count - 1; i >= 0; i--) v = v * 32768 + (digits[start + 2 * i]! | (digits[start + 2 * i + 1]! << 8));
  return v;
}

export function fitsInt32(v: number): boolean {
  return v >= -2147483648 && v <= 2147483647;
}

/** |v| as normalized base-2^15 digits, 2 bytes LE each, least significant first. */
export function bigintToDigits(magnitude: bigint): Uint8Array {
  const out: number[] = [];
  let m = magnitude;
  while (m > 0n) {
    const d = Number(m & 0x7fffn);
    out.push(d & 0xff, d >> 8);
    m >>= 15n;
  }
  return Uint8Array.from(out);
}

/** Digits back to a bigint (tests, diagnostics). */
export function digitsToBigint(digits: Uint8Array, negative: boolean): bigint {
  let v = 0n;
  for (let i = digits.length / 2 - 1; i >= 0; i--) {
    v = (v << 15n) | BigInt(digits[2 * i]! | (digits[2 * i + 1]! << 8));
  }
  return negative ? -v : v;
}

const DECIMAL_FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The text of a legacy TYPE_FLOAT / TYPE_COMPLEX part as binary64 LE bytes, or undefined
 * when it isn't a plain decimal literal. CPython (PyOS_string_to_double) also accepts
 * "inf"/"nan" spellings; those are refused rather than guessed at (which NaN bits?).
 * Both CPython and JS round decimal text correctly, so plain literals agree.
 */
export function parseFloatText(text: string): Uint8Array | undefined {
  if (!DECIMAL_FLOAT.test(text)) return undefined;
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, Number(text), true);
  return out;
}
