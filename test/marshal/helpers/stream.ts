/**
 * Hand-built marshal streams for the unit tests: each function returns the bytes of one
 * object, so streams read like the format (see ../../../src/marshal/types.ts).
 */
import { versionForCacheTag, type PyVersionInfo } from '../../../src/pyc/magic.js';
import { LAYOUT_310, LAYOUT_311, LAYOUT_38 } from '../../../src/marshal/layout.js';

export const REF = 0x80;
const enc = new TextEncoder();

export function v(minor: number): PyVersionInfo {
  const info = versionForCacheTag(`cpython-3${minor}`);
  if (!info) throw new Error(`no version info for 3.${minor}`);
  return info;
}

export function i32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

export function bytes(...parts: number[][]): Uint8Array {
  return Uint8Array.from(parts.flat());
}

const t = (c: string, flag = 0): number => c.charCodeAt(0) | flag;

export const NONE = [t('N')];
export const TRUE = [t('T')];
export const FALSE = [t('F')];
export const NULL = [t('0')];

export function int(n: number, flag = 0): number[] {
  return [t('i', flag), ...i32(n)];
}
/** TYPE_LONG from a bigint, base 2^15 digits. */
export function long(value: bigint, flag = 0, extraTopZero = false): number[] {
  const digits: number[] = [];
  let m = value < 0n ? -value : value;
  while (m > 0n) {
    const d = Number(m & 0x7fffn);
    digits.push(d & 0xff, d >> 8);
    m >>= 15n;
  }
  if (extraTopZero) digits.push(0, 0);
  const n = digits.length / 2;
  return [t('l', flag), ...i32(value < 0n ? -n : n), ...digits];
}
export function int64(value: bigint, flag = 0): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, value, true);
  return [t('I', flag), ...b];
}
export function float(x: number, flag = 0): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, x, true);
  return [t('g', flag), ...b];
}
/** A float from raw bits (NaN payloads). */
export function floatBits(hi: number, lo: number, flag = 0): number[] {
  return [t('g', flag), ...i32(lo), ...i32(hi)];
}
export function floatText(text: string, flag = 0): number[] {
  return [t('f', flag), text.length, ...enc.encode(text)];
}
export function complex(re: number, im: number, flag = 0): number[] {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setFloat64(0, re, true);
  new DataView(b.buffer).setFloat64(8, im, true);
  return [t('y', flag), ...b];
}
export function byt(data: number[] | string, flag = 0): number[] {
  const b = typeof data === 'string' ? [...enc.encode(data)] : data;
  return [t('s', flag), ...i32(b.length), ...b];
}
/** Short ASCII str (z, or Z when interned). */
export function z(s: string, flag = 0, interned = false): number[] {
  const b = [...enc.encode(s)];
  return [t(interned ? 'Z' : 'z', flag), b.length, ...b];
}
/** Long-form ASCII str (a / A). */
export function a(s: string, flag = 0, interned = false): number[] {
  const b = [...enc.encode(s)];
  return [t(interned ? 'A' : 'a', flag), ...i32(b.length), ...b];
}
/** UTF-8 str (u / t). */
export function u(s: string | number[], flag = 0, interned = false): number[] {
  const b = typeof s === 'string' ? [...enc.encode(s)] : s;
  return [t(interned ? 't' : 'u', flag), ...i32(b.length), ...b];
}
/** Raw Latin-1 payload under z. */
export function zRaw(b: number[], flag = 0): number[] {
  return [t('z', flag), b.length, ...b];
}
export function tuple(items: number[][], flag = 0): number[] {
  return items.length < 256 ? [t(')', flag), items.length, ...items.flat()] : [t('(', flag), ...i32(items.length), ...items.flat()];
}
export function bigTuple(items: number[][], flag = 0): number[] {
  return [t('(', flag), ...i32(items.length), ...items.flat()];
}
export function list(items: number[][], flag = 0): number[] {
  return [t('[', flag), ...i32(items.length), ...items.flat()];
}
export function set(items: number[][], flag = 0): number[] {
  return [t('<', flag), ...i32(items.length), ...items.flat()];
}
export function frozenset(items: number[][], flag = 0): number[] {
  return [t('>', flag), ...i32(items.length), ...items.flat()];
}
export function dict(pairs: [number[], number[]][], flag = 0, code = '{'): number[] {
  return [t(code, flag), ...pairs.flatMap(([k, val]) => [...k, ...val]), ...NULL];
}
export function slice(start: number[], stop: number[], step: number[], flag = 0): number[] {
  return [t(':', flag), ...start, ...stop, ...step];
}
export function ref(n: number): number[] {
  return [t('r'), ...i32(n)];
}

/**
 * A code object for `minor`'s layout. Object fields default to minimal valid values;
 * pass encodings (number[]) to override, by field name without the co_ prefix.
 */
export function code(minor: number, fields: Record<string, number[] | number> = {}, flag = 0): number[] {
  const layout = minor >= 11 ? LAYOUT_311 : minor >= 10 ? LAYOUT_310 : LAYOUT_38;
  const defaults: Record<string, number[]> = {
    code: byt([]),
    consts: tuple([]),
    names: tuple([]),
    varnames: tuple([]),
    freevars: tuple([]),
    cellvars: tuple([]),
    localsplusnames: tuple([]),
    localspluskinds: byt([]),
    filename: z('/abs/m.py'),
    name: z('<module>'),
    qualname: z('<module>'),
    lnotab: byt([]),
    linetable: byt([]),
    exceptiontable: byt([]),
  };
  const out = [t('c', flag)];
  for (const f of layout.fields) {
    const key = f.name.slice(3);
    const given = fields[key];
    if (f.type === 'int') out.push(...i32(typeof given === 'number' ? given : 0));
    else out.push(...((given as number[] | undefined) ?? defaults[key]!));
  }
  return out;
}
