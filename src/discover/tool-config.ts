/**
 * Reading the tools' own config files (poetry's and pdm's config.toml, uv.toml,
 * hatch's and pixi's config.toml, conda's .condarc in YAML, conda's
 * environments.txt) and looking values up in them. A file another tool owns
 * that does not parse is a warning, never an error: discovery goes on.
 */
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import type { QuietProbe } from './probe.js';
import type { ConfigFileRequest } from './types.js';

export function parseConfigText(text: string, format: ConfigFileRequest['format']): unknown {
  if (format === 'toml') return parseToml(text);
  if (format === 'yaml') return parseYaml(text) ?? {};
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/** Each distinct requested file that exists and parses, by path. */
export async function readConfigFiles(probe: QuietProbe, requests: readonly ConfigFileRequest[]): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  const unique = new Map(requests.map((r) => [r.path, r]));
  await Promise.all(
    [...unique.values()].map(async (r) => {
      const text = await probe.readFile(r.path);
      if (text === undefined) return;
      try {
        out.set(r.path, parseConfigText(text, r.format));
      } catch (err) {
        probe.warnings.push(`ignored ${r.path}: ${(err as Error).message.split('\n')[0]}`);
      }
    }),
  );
  return out;
}

/** `a.b.c` in a parsed document, as nested tables or as a literal dotted key at any level. */
export function lookup(doc: unknown, dotted: string): unknown {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const obj = doc as Record<string, unknown>;
  if (dotted in obj) return obj[dotted];
  const dot = dotted.indexOf('.');
  if (dot < 0) return undefined;
  return lookup(obj[dotted.slice(0, dot)], dotted.slice(dot + 1));
}

export function stringAt(doc: unknown, dotted: string): string | undefined {
  const v = lookup(doc, dotted);
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

/** A list of strings, or one string (conda accepts both for envs_dirs). */
export function stringsAt(doc: unknown, dotted: string): string[] {
  const v = lookup(doc, dotted);
  if (typeof v === 'string') return v.trim() === '' ? [] : [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string' && x.trim() !== '');
  return [];
}

/** The lines of a 'lines' file (environments.txt). */
export function linesOf(doc: unknown): string[] {
  return Array.isArray(doc) ? doc.filter((x): x is string => typeof x === 'string') : [];
}
