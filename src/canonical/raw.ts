/** The transform of `--byte-identical`: objects are the pyc files themselves, byte for byte. Pure. */
import { PycstoreError } from '../errors.js';
import { contentAddress } from '../hash/key.js';
import { HEADER_SIZE } from '../pyc/header.js';
import type { Transform } from './types.js';

export const rawTransform: Transform = {
  name: 'raw',
  address: contentAddress,
  body(pyc) {
    return pyc.subarray(HEADER_SIZE);
  },
  choices() {
    return ['as-is'];
  },
  header({ own }) {
    if (!own) throw new PycstoreError('EINTERNAL', 'a byte-identical object keeps its own header, and there is none');
    return own;
  },
};
