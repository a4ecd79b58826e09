import { expect } from 'vitest';
import { PycstoreError, type ErrorCode } from '../../../src/errors.js';

/** The error `fn` throws, asserting that it is a PycstoreError with `code`. */
export function thrown(fn: () => unknown, code: ErrorCode): PycstoreError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PycstoreError);
    expect((err as PycstoreError).code).toBe(code);
    return err as PycstoreError;
  }
  throw new Error(`expected ${code}`);
}
