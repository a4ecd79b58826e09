/**
 * The canonical transform: a fresh pyc becomes an object whose marshal body is
 * canonical (co_filename relative to the import root, deterministic encoding)
 * under the header the policy picks. Pure over bytes.
 *
 * Every body is checked structurally against its original (canonicalizeChecked)
 * when it is made, i.e. before any object is stored or linked. Bodies that had
 * to be recompiled by a real interpreter are checked the same way when they are
 * made (python/compile.ts). Sourceless pycs never get here: the scanner only
 * yields pycs with a source, and only loads from source get co_filename fixed
 * by CPython.
 */
import { PycstoreError } from '../errors.js';
import { contentAddress } from '../hash/key.js';
import { canonicalizeChecked } from '../marshal/index.js';
import { buildHeader, HEADER_SIZE, type Invalidation } from '../pyc/header.js';
import { withHeaderInFront, type HeaderChoice, type InvalidationPolicy, type Transform } from './types.js';

export function canonicalTransform(policy: InvalidationPolicy): Transform {
  return {
    name: 'canonical',
    address: contentAddress,
    body(pyc, header, relName, out) {
      const body = canonicalizeChecked(pyc.subarray(HEADER_SIZE), header.version, relName, HEADER_SIZE, out);
      if (body === out?.expect) return body; // another copy's, maybe seen by other threads: not written to
      // The pyc's own header in front of the body, in its buffer: the object of a fresh pyc is then made without a copy (objectBytes).
      return withHeaderInFront(body, pyc.subarray(0, HEADER_SIZE));
    },
    choices(header): Invalidation[] {
      if (policy !== 'auto') return [policy];
      if (header.invalidation !== 'timestamp') return [header.invalidation];
      return ['timestamp', 'checked-hash'];
    },
    header({ header, stamp, sourceHash }, choice: HeaderChoice) {
      const v = header.version;
      const inv: Invalidation = choice === 'as-is' ? header.invalidation : choice;
      if (inv === 'timestamp') return buildHeader(v, 'timestamp', { mtime: stamp.mtime, sourceSize: stamp.size });
      const h = sourceHash ?? (header.invalidation !== 'timestamp' ? header.sourceHash : undefined);
      if (h === undefined) throw new PycstoreError('EINTERNAL', 'a hash header needs the source hash');
      return buildHeader(v, inv, { sourceHash: h });
    },
  };
}
