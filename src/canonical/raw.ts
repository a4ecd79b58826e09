/** The transform of `--byte-identical`: objects are the pyc files themselves, byte for byte. Pure. */
import { contentAddress } from '../hash/key.js';
import { xxh64Hex } from '../hash/xxhash.js';
import { HEADER_SIZE } from '../pyc/header.js';
import type { Transform } from './types.js';

export const rawTransform: Transform = {
  name: 'raw',
  address: contentAddress,
  needsSource: () => false,
  prepare({ bytes }) {
    return bytes;
  },
  variants({ bytes, prepared, header }) {
    const b = prepared ?? bytes;
    return [
      {
        choice: 'as-is',
        key: this.address(b),
        invalidation: header.invalidation,
        bodyHash: xxh64Hex(b.subarray(HEADER_SIZE)),
      },
    ];
  },
  materialize({ bytes, prepared }) {
    return prepared ?? bytes;
  },
};
