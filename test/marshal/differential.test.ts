/**
 * Differential test against every CPython interpreter on the machine, over its whole
 * stdlib (every pyc of lib/python3.X, all optimization levels; site-packages too with
 * PYCSTORE_MARSHAL_SITE=1). For each pyc:
 *   - the reader's graph, written back faithfully, reproduces the body byte for byte;
 *   - canonicalizeChecked with co_filename relative to lib/python3.X (canonicalize, then
 *     the structural check against the original) succeeds, and canonicalize is
 *     idempotent;
 *   - in one long-lived Python process per version, marshal.loads(canonical) after
 *     _imp._fix_co_filename(code, original.co_filename) is structurally equal to
 *     marshal.loads(original) (NaN-aware; see helpers/loads_equal.py).
 * Refusals (ECANON from canonicalize: mixed or shared co_filename) are counted, not
 * failures. Counts per version are printed and written to .cache/marshal-differential.json.
 * PYCSTORE_MARSHAL_VERSIONS=3.11,3.13 restricts the versions (for development).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PycstoreError } from '../../src/errors.js';
import { canonicalize, canonicalizeChecked, parseMarshal, readCodeFilename } from '../../src/marshal/index.js';
import { decodeUtf8Surrogatepass } from '../../src/marshal/strings.js';
import { payload, type StrNode } from '../../src/marshal/types.js';
import { parseHeader } from '../../src/pyc/header.js';
import { sameBytes } from '../../src/store/objects.js';
import { findInterpreters, announceMissing, missingVersions, REPO_ROOT } from '../helpers/interpreters.js';
import { writeFaithful } from './helpers/faithful.js';
import { LoadsChecker } from './helpers/python.js';
import { relSourceName, stdlibPycs } from './helpers/stdlib.js';

const only = process.env['PYCSTORE_MARSHAL_VERSIONS']?.split(',');
const found = findInterpreters().filter((i) => !only || only.includes(i.version));
const missing = missingVersions(findInterpreters());
announceMissing('marshal differential');
if (only) console.warn(`marshal differential: restricted to ${only.join(', ')} by PYCSTORE_MARSHAL_VERSIONS`);

interface Counts {
  version: string;
  origin: string;
  pycs: number;
  megabytes: number;
  checked: number;
  refused: number;
  failures: number;
  refusals: string[];
  otherCoFilename: number;
  seconds: number;
}
const results: Counts[] = [];

describe('differential: canonical pycs load equal on the real interpreters', () => {
  for (const interp of found) {
    it(`Python ${interp.version} (${interp.origin}): the whole stdlib`, async () => {
      const t0 = performance.now();
      const std = stdlibPycs(interp, { site: process.env['PYCSTORE_MARSHAL_SITE'] === '1' });
      expect(std.pycs.length, `pycs under ${std.libDir}`).toBeGreaterThan(100);
      const checker = new LoadsChecker(interp.exe);
      const failures: string[] = [];
      const refusals: string[] = [];
      let bytes = 0;
      let sent = 0;
      let otherCoFilename = 0;
      try {
        for (const pyc of std.pycs) {
          const data = readFileSync(pyc);
          bytes += data.length;
          const header = parseHeader(data);
          if (typeof header === 'string' || header.version.minor !== interp.minor) {
            failures.push(`${pyc}: header ${typeof header === 'string' ? header : header.version.version}`);
            continue;
          }
          const v = header.version;
          const body = data.subarray(16);
          const rel = relSourceName(std.libDir, pyc);
          let canon: Uint8Array;
          try {
            const graph = parseMarshal(body, v);
            if (!sameBytes(writeFaithful(body, graph), body)) failures.push(`${pyc}: faithful re-serialization differs`);
            if (graph.root.kind === 'code') {
              const fn = decodeUtf8Surrogatepass(payload(graph.root.items[graph.root.layout.filenameIndex] as StrNode));
              if (fn !== path.join(std.libDir, rel)) otherCoFilename++;
              if (sent % 97 === 0 && readCodeFilename(body, v) !== fn) failures.push(`${pyc}: readCodeFilename disagrees`);
            }
            canon = canonicalizeChecked(body, v, rel);
          } catch (err) {
            // A refusal comes from canonicalize; ECANON from the check (data.path) is a failure.
            const refusal = err instanceof PycstoreError && err.code === 'ECANON' && (err.data as { path?: string } | undefined)?.path === undefined;
            if (refusal) refusals.push(`${rel}: ${(err as Error).message}`);
            else failures.push(`${pyc}: ${String(err)}`);
            continue;
          }
          try {
            if (!sameBytes(canonicalize(canon, v, rel), canon)) failures.push(`${pyc}: canonicalize is not idempotent`);
          } catch (err) {
            failures.push(`${pyc}: ${String(err)}`);
          }
          await checker.send(pyc, canon);
          sent++;
        }
      } finally {
        const verdicts = await checker.finish();
        if (verdicts.length !== sent) failures.push(`python answered ${verdicts.length} of ${sent}`);
        for (const line of verdicts) if (line !== 'ok') failures.push(line);
      }
      const counts: Counts = {
        version: interp.version,
        origin: std.compiledHere ? `${interp.origin}, stdlib compiled for the test` : interp.origin,
        pycs: std.pycs.length,
        megabytes: Math.round(bytes / 1e5) / 10,
        checked: sent,
        refused: refusals.length,
        failures: failures.length,
        refusals: refusals.slice(0, 20),
        otherCoFilename,
        seconds: Math.round((performance.now() - t0) / 100) / 10,
      };
      results.push(counts);
      console.log(
        `marshal differential ${interp.version}: ${counts.pycs} pycs (${counts.megabytes} MB), ${counts.checked} loaded equal, ` +
          `${counts.refused} refused, ${counts.failures} failures, ${otherCoFilename} with a co_filename other than their path, ${counts.seconds}s`,
      );
      for (const r of refusals.slice(0, 10)) console.log(`  refused ${r}`);
      mkdirSync(path.join(REPO_ROOT, '.cache'), { recursive: true });
      writeFileSync(path.join(REPO_ROOT, '.cache', 'marshal-differential.json'), JSON.stringify(results, null, 2));
      expect(failures.slice(0, 20)).toEqual([]);
    }, 900_000);
  }
});
