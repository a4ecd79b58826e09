/**
 * Code-object field order in the marshal stream, per layout (see
 * ../shared/research/pyc-internals.md §3.2 and `r_object` in Python/marshal.c):
 *
 *   3.8  (3.8, 3.9)    argcount posonlyargcount kwonlyargcount nlocals stacksize flags
 *                      code consts names varnames freevars cellvars filename name
 *                      firstlineno lnotab
 *   3.10               same, with linetable in place of lnotab
 *   3.11 (3.11–3.15)   argcount posonlyargcount kwonlyargcount stacksize flags code consts
 *                      names localsplusnames localspluskinds filename name qualname
 *                      firstlineno linetable exceptiontable
 *
 * Each object field also says what type CPython's code constructor requires there; the
 * reader refuses anything else (CPython would refuse to load it too).
 */
import type { CodeLayout } from '../pyc/magic.js';
import { F_BYTES, F_INT, F_STR, F_STRTUPLE, F_TUPLE, type CodeField, type CodeLayoutInfo, type FieldType } from './types.js';

const FIELD_KIND: Record<FieldType, number> = { int: F_INT, bytes: F_BYTES, str: F_STR, tuple: F_TUPLE, strtuple: F_STRTUPLE };

function f(name: string, type: FieldType): CodeField {
  return { name, type };
}

function build(name: CodeLayout, fields: CodeField[]): CodeLayoutInfo {
  const intNames = fields.filter((x) => x.type === 'int').map((x) => x.name);
  const objNames = fields.filter((x) => x.type !== 'int').map((x) => x.name);
  const filenameIndex = objNames.indexOf('co_filename');
  const fieldKinds = Uint8Array.from(fields.map((x) => FIELD_KIND[x.type]));
  return Object.freeze({ name, fields: Object.freeze(fields), intNames, objNames, filenameIndex, fieldKinds });
}

const HEAD_38 = [
  f('co_argcount', 'int'),
  f('co_posonlyargcount', 'int'),
  f('co_kwonlyargcount', 'int'),
  f('co_nlocals', 'int'),
  f('co_stacksize', 'int'),
  f('co_flags', 'int'),
  f('co_code', 'bytes'),
  f('co_consts', 'tuple'),
  f('co_names', 'strtuple'),
  f('co_varnames', 'strtuple'),
  f('co_freevars', 'strtuple'),
  f('co_cellvars', 'strtuple'),
  f('co_filename', 'str'),
  f('co_name', 'str'),
  f('co_firstlineno', 'int'),
];

export const LAYOUT_38 = build('3.8', [...HEAD_38, f('co_lnotab', 'bytes')]);
export const LAYOUT_310 = build('3.10', [...HEAD_38, f('co_linetable', 'bytes')]);
export const LAYOUT_311 = build('3.11', [
  f('co_argcount', 'int'),
  f('co_posonlyargcount', 'int'),
  f('co_kwonlyargcount', 'int'),
  f('co_stacksize', 'int'),
  f('co_flags', 'int'),
  f('co_code', 'bytes'),
  f('co_consts', 'tuple'),
  f('co_names', 'strtuple'),
  f('co_localsplusnames', 'strtuple'),
  f('co_localspluskinds', 'bytes'),
  f('co_filename', 'str'),
  f('co_name', 'str'),
  f('co_qualname', 'str'),
  f('co_firstlineno', 'int'),
  f('co_linetable', 'bytes'),
  f('co_exceptiontable', 'bytes'),
]);

export function codeLayout(name: CodeLayout): CodeLayoutInfo {
  switch (name) {
    case '3.8':
      return LAYOUT_38;
    case '3.10':
      return LAYOUT_310;
    case '3.11':
      return LAYOUT_311;
  }
}
