#!/usr/bin/env node
/**
 * Lists the functions (declarations, methods, arrow functions, function expressions) of the given
 * TypeScript files or folders that span more than MAX lines, longest first, using the TypeScript
 * compiler's own parser. Exit status 1 when there is one.
 *
 *   node scripts/function-lengths.mjs [--max 80] src/dedup [more paths]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export function functionLengths(file) {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      const end = sf.getLineAndCharacterOfPosition(node.end).line + 1;
      const name = node.name?.getText(sf) ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText(sf) : '(anonymous)');
      out.push({ file, name, start, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function tsFiles(p) {
  if (statSync(p).isDirectory()) return readdirSync(p).sort().flatMap((n) => tsFiles(path.join(p, n)));
  return p.endsWith('.ts') ? [p] : [];
}

export function longFunctions(paths, max) {
  return paths.flatMap(tsFiles).flatMap(functionLengths).filter((f) => f.lines > max).sort((a, b) => b.lines - a.lines);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  let max = 80;
  const i = args.indexOf('--max');
  if (i >= 0) {
    max = Number(args[i + 1]);
    args.splice(i, 2);
  }
  const long = longFunctions(args.length ? args : ['src'], max);
  for (const f of long) console.log(`${f.file}:${f.start}  ${f.name}  ${f.lines} lines`);
  console.log(`${long.length} functions over ${max} lines`);
  process.exitCode = long.length > 0 ? 1 : 0;
}
